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

// Newer than some build hosts' headers; values are the kernel ABI.
#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef SIOCOUTQNSD
#define SIOCOUTQNSD 0x894B
#endif
#ifndef SO_MAX_PACING_RATE
#define SO_MAX_PACING_RATE 47
#endif
#ifndef TCP_USER_TIMEOUT
#define TCP_USER_TIMEOUT 18
#endif
#ifndef TCP_NOTSENT_LOWAT
#define TCP_NOTSENT_LOWAT 25
#endif
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44
#endif
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45
#endif
#ifndef TCP_DELACK_MAX_US
#define TCP_DELACK_MAX_US 46
#endif

namespace tv {
Napi::Value JsGetSockOpt(const Napi::CallbackInfo& info);
Napi::Value JsSetSockOpt(const Napi::CallbackInfo& info);
Napi::Value JsSetSockOptInt(const Napi::CallbackInfo& info);
Napi::Value JsCookie(const Napi::CallbackInfo& info);
Napi::Value JsQueues(const Napi::CallbackInfo& info);
Napi::Value JsTcpInfo(const Napi::CallbackInfo& info);
Napi::Value JsReadBatch(const Napi::CallbackInfo& info);
Napi::Value JsPidfdOpen(const Napi::CallbackInfo& info);
Napi::Value JsInspectFds(const Napi::CallbackInfo& info);
Napi::Value JsReadFilesInNetns(const Napi::CallbackInfo& info);
Napi::Value JsDeathwatchOpen(const Napi::CallbackInfo& info);
Napi::Value JsDeathwatchAdd(const Napi::CallbackInfo& info);
Napi::Value JsDeathwatchApply(const Napi::CallbackInfo& info);
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
  exports.Set("getsockopt", Napi::Function::New(env, tv::JsGetSockOpt, "getsockopt"));
  exports.Set("setsockopt", Napi::Function::New(env, tv::JsSetSockOpt, "setsockopt"));
  exports.Set("setsockoptInt", Napi::Function::New(env, tv::JsSetSockOptInt, "setsockoptInt"));
  exports.Set("cookie", Napi::Function::New(env, tv::JsCookie, "cookie"));
  exports.Set("queues", Napi::Function::New(env, tv::JsQueues, "queues"));
  exports.Set("tcpInfo", Napi::Function::New(env, tv::JsTcpInfo, "tcpInfo"));
  exports.Set("readBatch", Napi::Function::New(env, tv::JsReadBatch, "readBatch"));
  exports.Set("pidfdOpen", Napi::Function::New(env, tv::JsPidfdOpen, "pidfdOpen"));
  exports.Set("inspectFds", Napi::Function::New(env, tv::JsInspectFds, "inspectFds"));
  exports.Set("readFilesInNetns", Napi::Function::New(env, tv::JsReadFilesInNetns, "readFilesInNetns"));
  exports.Set("deathwatchOpen", Napi::Function::New(env, tv::JsDeathwatchOpen, "deathwatchOpen"));
  exports.Set("deathwatchAdd", Napi::Function::New(env, tv::JsDeathwatchAdd, "deathwatchAdd"));
  exports.Set("deathwatchApply", Napi::Function::New(env, tv::JsDeathwatchApply, "deathwatchApply"));
  exports.Set("constants", Constants(env));
  return exports;
}

NODE_API_MODULE(tcp_vitals, Init)
