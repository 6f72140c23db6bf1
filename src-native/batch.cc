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
  Napi::Value fdsV = info[0];
  if (!fdsV.IsTypedArray() || fdsV.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "fds must be an Int32Array");
  Napi::Int32Array fds = fdsV.As<Napi::Int32Array>();
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
  int32_t stride = ArgInt32(info, 4, "stride");
  if (stride < static_cast<int32_t>(kRecordHeader + kTcpInfoMinLength) || stride % 8 != 0)
    throw Napi::RangeError::New(env, "stride must be a multiple of 8 and >= " + std::to_string(kRecordHeader + kTcpInfoMinLength));
  if (count < 0 || static_cast<size_t>(count) > fds.ElementLength() ||
      (cookies != nullptr && static_cast<size_t>(count) > cookieLen) ||
      static_cast<size_t>(count) * static_cast<size_t>(stride) > out.ByteLength())
    throw Napi::RangeError::New(env, "count exceeds fds, cookies or out");
  ReadBatch(reinterpret_cast<const int32_t*>(fds.Data()), cookies, static_cast<size_t>(count),
            out.Data(), static_cast<size_t>(stride));
  return Napi::Number::New(env, count);
}

}  // namespace tv
