// TCP_INFO glue. The caller's buffer is sized for current kernels (the JS
// side passes 512 bytes); decoding happens in TypeScript by the returned
// length, never by this build host's struct tcp_info.
#include "args.h"
#include "syscalls.h"

namespace tv {

// tcpInfo(fd, buf) -> bytes the running kernel filled, or -errno.
Napi::Value JsTcpInfo(const Napi::CallbackInfo& info) {
  RequireArgs(info, 2);
  int fd = ArgFd(info, 0);
  Napi::Uint8Array buf = ArgBytes(info, 1, "buffer");
  return Napi::Number::New(info.Env(), ReadTcpInfo(fd, buf.Data(), buf.ByteLength()));
}

}  // namespace tv
