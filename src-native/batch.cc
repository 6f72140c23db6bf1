// Batch read: many fds, one preallocated buffer, no allocation per call.
#include <string>

#include "args.h"
#include "syscalls.h"

namespace tv {

// readBatch(fds: Int32Array, cookies: BigUint64Array | null, count, out, stride)
//   -> count. Record layout: see syscalls.h.
Napi::Value JsReadBatch(const Napi::CallbackInfo& info) {
  RequireArgs(info, 5);
  Napi::Env env = info.Env();
  Napi::Int32Array fds = ArgInt32Array(info, 0, "fds");
  const uint64_t* cookies = nullptr;
  size_t cookieLen = 0;
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array)
      throw Napi::TypeError::New(env, "cookies must be a BigUint64Array or null");
    Napi::TypedArrayOf<uint64_t> c = info[1].As<Napi::TypedArrayOf<uint64_t>>();
    cookies = c.Data();
    cookieLen = c.ElementLength();
  }
  int32_t count = ArgInt32(info, 2, "count");
  Napi::Uint8Array out = ArgBytes(info, 3, "out");
  int32_t stride = ArgStride(info, 4, kRecordHeader + kTcpInfoMinLength);
  if (count < 0 || static_cast<size_t>(count) > fds.ElementLength() ||
      (cookies != nullptr && static_cast<size_t>(count) > cookieLen) ||
      static_cast<size_t>(count) * static_cast<size_t>(stride) > out.ByteLength())
    throw Napi::RangeError::New(env, "count exceeds fds, cookies or out");
  ReadBatch(reinterpret_cast<const int32_t*>(fds.Data()), cookies, static_cast<size_t>(count),
            out.Data(), static_cast<size_t>(stride));
  return Napi::Number::New(env, count);
}

}  // namespace tv
