// getsockopt / setsockopt / SO_COOKIE glue.
#include "args.h"
#include "syscalls.h"

namespace tv {

// getsockopt(fd, level, name, buf) -> bytes written by the kernel, or -errno.
Napi::Value JsGetSockOpt(const Napi::CallbackInfo& info) {
  RequireArgs(info, 4);
  int fd = ArgFd(info, 0);
  int level = ArgInt32(info, 1, "level");
  int name = ArgInt32(info, 2, "name");
  Napi::Uint8Array buf = ArgBytes(info, 3, "buffer");
  return Napi::Number::New(info.Env(), GetSockOpt(fd, level, name, buf.Data(), buf.ByteLength()));
}

// setsockopt(fd, level, name, buf) -> 0 or -errno.
Napi::Value JsSetSockOpt(const Napi::CallbackInfo& info) {
  RequireArgs(info, 4);
  int fd = ArgFd(info, 0);
  int level = ArgInt32(info, 1, "level");
  int name = ArgInt32(info, 2, "name");
  Napi::Uint8Array buf = ArgBytes(info, 3, "buffer");
  return Napi::Number::New(info.Env(), SetSockOpt(fd, level, name, buf.Data(), buf.ByteLength()));
}

// setsockoptInt(fd, level, name, value) -> 0 or -errno (no Buffer per call).
Napi::Value JsSetSockOptInt(const Napi::CallbackInfo& info) {
  RequireArgs(info, 4);
  int fd = ArgFd(info, 0);
  int level = ArgInt32(info, 1, "level");
  int name = ArgInt32(info, 2, "name");
  int value = ArgInt32(info, 3, "value");
  return Napi::Number::New(info.Env(), SetSockOpt(fd, level, name, &value, sizeof value));
}

// cookie(fd) -> bigint cookie, or a negative number (-errno).
Napi::Value JsCookie(const Napi::CallbackInfo& info) {
  RequireArgs(info, 1);
  int fd = ArgFd(info, 0);
  uint64_t cookie = 0;
  int r = ReadCookie(fd, &cookie);
  if (r < 0) return Napi::Number::New(info.Env(), r);
  return Napi::BigInt::New(info.Env(), cookie);
}

}  // namespace tv
