// Argument checks shared by the N-API glue. TypeScript validates first with
// Node's ERR_ codes; these are the last line so a wrong call throws instead of
// crashing. Policy: C++ exceptions (node_addon_api_except) everywhere.
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>

namespace tv {

inline void RequireArgs(const Napi::CallbackInfo& info, size_t n) {
  if (info.Length() < n)
    throw Napi::TypeError::New(info.Env(), "expected " + std::to_string(n) + " arguments");
}

inline int32_t ArgInt32(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= INT32_MIN && d <= INT32_MAX) || d != static_cast<double>(static_cast<int32_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(what) + " must be a 32-bit integer");
  return static_cast<int32_t>(d);
}

inline int ArgFd(const Napi::CallbackInfo& info, size_t i) {
  int32_t fd = ArgInt32(info, i, "fd");
  if (fd < 0) throw Napi::RangeError::New(info.Env(), "fd must be >= 0");
  return fd;
}

inline Napi::Uint8Array ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Buffer or Uint8Array");
  return v.As<Napi::Uint8Array>();
}

inline Napi::Int32Array ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int32Array");
  return v.As<Napi::Int32Array>();
}

// A record stride: a multiple of 8 and at least min bytes.
inline int32_t ArgStride(const Napi::CallbackInfo& info, size_t i, size_t min) {
  int32_t stride = ArgInt32(info, i, "stride");
  if (stride < static_cast<int32_t>(min) || stride % 8 != 0)
    throw Napi::RangeError::New(info.Env(), "stride must be a multiple of 8 and >= " + std::to_string(min));
  return stride;
}

}  // namespace tv
