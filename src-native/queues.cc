// SIOCOUTQ / SIOCOUTQNSD / SIOCINQ glue.
#include "args.h"
#include "syscalls.h"

namespace tv {

// queues(fd, out: Int32Array(3)) -> 0 or -errno; out = [outq, outqnsd, inq].
Napi::Value JsQueues(const Napi::CallbackInfo& info) {
  RequireArgs(info, 2);
  int fd = ArgFd(info, 0);
  Napi::Value v = info[1];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::Int32Array>().ElementLength() < 3)
    throw Napi::TypeError::New(info.Env(), "out must be an Int32Array of length >= 3");
  Napi::Int32Array out = v.As<Napi::Int32Array>();
  Queues q{};
  int r = ReadQueues(fd, &q);
  if (r == 0) {
    out[0] = q.send_queue;
    out[1] = q.unsent;
    out[2] = q.receive_queue;
  }
  return Napi::Number::New(info.Env(), r);
}

}  // namespace tv
