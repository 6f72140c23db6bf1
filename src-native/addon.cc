// Module init and kernel constants. TypeScript takes every kernel number from
// here rather than hard-coding it.
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "args.h"
#include "pidfd.h"
#include "syscalls.h"

// Every N-API function, once: (JavaScript name, C++ function).
#define TV_FUNCTIONS(X)                    \
  X(getsockopt, JsGetSockOpt)             \
  X(setsockopt, JsSetSockOpt)             \
  X(setsockoptInt, JsSetSockOptInt)       \
  X(cookie, JsCookie)                     \
  X(queues, JsQueues)                     \
  X(tcpInfo, JsTcpInfo)                   \
  X(readBatch, JsReadBatch)               \
  X(pidfdOpen, JsPidfdOpen)               \
  X(inspectFds, JsInspectFds)             \
  X(readFilesInNetns, JsReadFilesInNetns) \
  X(deathwatchOpen, JsDeathwatchOpen)     \
  X(deathwatchAdd, JsDeathwatchAdd)       \
  X(deathwatchApply, JsDeathwatchApply)   \
  X(deathwatchWatch, JsDeathwatchWatch)

namespace tv {
#define TV_DECLARE(js, fn) Napi::Value fn(const Napi::CallbackInfo& info);
TV_FUNCTIONS(TV_DECLARE)
#undef TV_DECLARE
}  // namespace tv

static Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
#define TV_EXPORT(name) c.Set(#name, Napi::Number::New(env, name))
  TV_EXPORT(SOL_SOCKET);
  TV_EXPORT(IPPROTO_TCP);
  TV_EXPORT(IPPROTO_IP);
  TV_EXPORT(IPPROTO_IPV6);
  TV_EXPORT(SO_KEEPALIVE);
  TV_EXPORT(SO_LINGER);
  TV_EXPORT(SO_SNDBUF);
  TV_EXPORT(SO_RCVBUF);
  TV_EXPORT(SO_ERROR);
  TV_EXPORT(SO_TYPE);
  TV_EXPORT(SO_PROTOCOL);
  TV_EXPORT(SO_DOMAIN);
  TV_EXPORT(SO_REUSEADDR);
  TV_EXPORT(SO_REUSEPORT);
  TV_EXPORT(SO_COOKIE);
  TV_EXPORT(SO_MAX_PACING_RATE);
  TV_EXPORT(TCP_NODELAY);
  TV_EXPORT(TCP_MAXSEG);
  TV_EXPORT(TCP_CORK);
  TV_EXPORT(TCP_KEEPIDLE);
  TV_EXPORT(TCP_KEEPINTVL);
  TV_EXPORT(TCP_KEEPCNT);
  TV_EXPORT(TCP_SYNCNT);
  TV_EXPORT(TCP_LINGER2);
  TV_EXPORT(TCP_DEFER_ACCEPT);
  TV_EXPORT(TCP_INFO);
  TV_EXPORT(TCP_QUICKACK);
  TV_EXPORT(TCP_CONGESTION);
  TV_EXPORT(TCP_USER_TIMEOUT);
  TV_EXPORT(TCP_NOTSENT_LOWAT);
  TV_EXPORT(TCP_RTO_MAX_MS);
  TV_EXPORT(TCP_RTO_MIN_US);
  TV_EXPORT(TCP_DELACK_MAX_US);
  TV_EXPORT(SIOCINQ);
  TV_EXPORT(SIOCOUTQ);
  TV_EXPORT(SIOCOUTQNSD);
  TV_EXPORT(AF_INET);
  TV_EXPORT(AF_INET6);
  TV_EXPORT(AF_UNIX);
  TV_EXPORT(SOCK_STREAM);
  TV_EXPORT(SOCK_DGRAM);
  TV_EXPORT(ESTALE);
  TV_EXPORT(ETIMEDOUT);
  TV_EXPORT(EOPNOTSUPP);
  TV_EXPORT(ENOPROTOOPT);
#undef TV_EXPORT
  c.Set("RECORD_HEADER", Napi::Number::New(env, static_cast<double>(tv::kRecordHeader)));
  c.Set("TCP_INFO_NOTSENT_OFFSET", Napi::Number::New(env, static_cast<double>(tv::kTcpInfoNotsentOffset)));
  c.Set("TCP_INFO_MIN_LENGTH", Napi::Number::New(env, static_cast<double>(tv::kTcpInfoMinLength)));
  c.Set("INSPECT_HEADER", Napi::Number::New(env, static_cast<double>(tv::kInspectHeader)));
  return c;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
#define TV_REGISTER(js, fn) exports.Set(#js, Napi::Function::New(env, tv::fn, #js));
  TV_FUNCTIONS(TV_REGISTER)
#undef TV_REGISTER
  exports.Set("constants", Constants(env));
  return exports;
}

NODE_API_MODULE(tcp_vitals, Init)
