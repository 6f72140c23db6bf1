// deathwatch: the kernel's verdict on protected sockets, delivered even when
// Node is not reading them.
//
// One epoll set per Node environment holds every protected socket, registered
// for EPOLLERR|EPOLLHUP only (one-shot), tagged with (fd, low 32 bits of
// SO_COOKIE). A single uv_poll watches that epoll fd, unref'd so it never keeps
// the process alive. An idle socket costs nothing here: the kernel wakes the
// set only when it aborts a connection (TCP_USER_TIMEOUT, keepalive, RST).
// Closing a socket's fd removes it from the set by itself.
//
// Teardown (a worker thread ending, or the process exiting) goes through an
// async cleanup hook: the poll handle's uv_close completes on the env's loop,
// and only its close callback tells Node the cleanup is done. A plain env
// cleanup hook let Node finish the env (and, in a worker, unload this addon)
// before libuv ran the close callback: the worker's loop then jumped into
// unmapped code (SIGSEGV on every worker that opened a deathwatch).
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "args.h"
#include "syscalls.h"

namespace tv {
namespace {

constexpr int kMaxEvents = 256;

struct Deathwatch {
  napi_env env = nullptr;
  int epfd = -1;
  uv_poll_t poll{};  // poll.data points back here; freed with the Deathwatch in its close callback
  napi_async_cleanup_hook_handle cleanup = nullptr;
  Napi::FunctionReference callback;
  Napi::Reference<Napi::Float64Array> out;  // 3 doubles per event: fd, cookie low 32, revents
  std::unique_ptr<Napi::AsyncContext> context;
};

std::mutex registry_mutex;
std::unordered_map<napi_env, Deathwatch*> registry;

Deathwatch* Find(napi_env env) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = registry.find(env);
  return it == registry.end() ? nullptr : it->second;
}

// Calls the JS callback with `n`; false when it did not return normally. The C
// API, not Napi::FunctionReference::MakeCallback: in a worker being
// terminated the env can no longer run JS, the call fails with no exception
// pending, and node-addon-api's error path (creating an Error object) would
// then abort the process ("FATAL ERROR: Error::Error napi_define_properties").
bool Deliver(Deathwatch* dw, int n) {
  napi_env env = dw->env;
  napi_value fn, global, arg, result;
  if (napi_get_reference_value(env, dw->callback, &fn) != napi_ok || fn == nullptr) return false;
  if (napi_get_global(env, &global) != napi_ok || napi_create_int32(env, n, &arg) != napi_ok) return false;
  if (napi_make_callback(env, *dw->context, global, fn, 1, &arg, &result) == napi_ok) return true;
  // A JS exception (the callback catches its handlers' own, so rare) goes to
  // 'uncaughtException'; an env that cannot run JS any more gets nothing.
  bool pending = false;
  napi_value exc;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
    napi_fatal_exception(env, exc);
  }
  return false;
}

void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  Deathwatch* dw = static_cast<Deathwatch*>(handle->data);
  if (status < 0 || dw->callback.IsEmpty()) return;
  Napi::Env env(dw->env);
  Napi::HandleScope scope(env);
  Napi::Float64Array out = dw->out.Value();
  double* slots = out.Data();
  const int cap = static_cast<int>(out.ElementLength() / 3);
  uint64_t tags[kMaxEvents];
  uint32_t revents[kMaxEvents];
  for (int round = 0; round < 64; round++) {
    int n = EpollDrain(dw->epfd, tags, revents, cap < kMaxEvents ? cap : kMaxEvents);
    if (n <= 0) return;
    for (int i = 0; i < n; i++) {
      // SO_ERROR is left alone: on a socket still connecting, reading it would
      // make libuv take a refused connect for a success. TypeScript decides.
      slots[3 * i] = static_cast<double>(tags[i] & 0xffffffffu);
      slots[3 * i + 1] = static_cast<double>(tags[i] >> 32);
      slots[3 * i + 2] = static_cast<double>(revents[i]);
    }
    if (!Deliver(dw, n)) return;
  }
}

void OnPollClosed(uv_handle_t* handle) {
  Deathwatch* dw = static_cast<Deathwatch*>(handle->data);
  close(dw->epfd);
  napi_async_cleanup_hook_handle cleanup = dw->cleanup;
  delete dw;
  // Last: from here Node may finish the env and unload this addon.
  napi_remove_async_cleanup_hook(cleanup);
}

// The env is still alive here: the references are released now, the poll is
// closed on its loop, and the cleanup completes in OnPollClosed.
void Cleanup(napi_async_cleanup_hook_handle /*handle*/, void* arg) {
  Deathwatch* dw = static_cast<Deathwatch*>(arg);
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(dw->env);
  }
  dw->callback.Reset();
  dw->out.Reset();
  dw->context.reset();
  uv_poll_stop(&dw->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&dw->poll), OnPollClosed);
}

ProtectOptions ArgOptions(const Napi::CallbackInfo& info, size_t at) {
  ProtectOptions o;
  o.user_timeout_ms = ArgInt32(info, at, "userTimeout");
  o.keep_idle_s = ArgInt32(info, at + 1, "keepIdle");
  o.keep_intvl_s = ArgInt32(info, at + 2, "keepInterval");
  o.keep_cnt = ArgInt32(info, at + 3, "keepCount");
  o.rto_max_ms = ArgInt32(info, at + 4, "rtoMax");
  return o;
}

}  // namespace

// deathwatchOpen(callback(count), out: Float64Array) -> 0 or -errno. Each event
// is written to out as [fd, cookie low 32 bits, epoll revents].
// Idempotent per environment: a second call replaces callback and buffer.
Napi::Value JsDeathwatchOpen(const Napi::CallbackInfo& info) {
  RequireArgs(info, 2);
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::TypedArray>().ElementLength() < 3)
    throw Napi::TypeError::New(env, "out must be a Float64Array of at least 3 elements");
  Deathwatch* dw = Find(env);
  if (dw == nullptr) {
    int epfd = EpollCreate();
    if (epfd < 0) return Napi::Number::New(env, epfd);
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      close(epfd);
      return Napi::Number::New(env, -ENOSYS);
    }
    dw = new Deathwatch;
    dw->env = env;
    dw->epfd = epfd;
    dw->poll.data = dw;
    int r = uv_poll_init(loop, &dw->poll, epfd);
    if (r != 0) {  // nothing registered with the loop: freed here
      close(epfd);
      delete dw;
      return Napi::Number::New(env, r);  // libuv errors are -errno on Unix
    }
    // From here the handle belongs to the loop: it is freed only through uv_close.
    r = uv_poll_start(&dw->poll, UV_READABLE, OnPoll);
    if (r == 0 && napi_add_async_cleanup_hook(env, Cleanup, dw, &dw->cleanup) != napi_ok) r = -ENOSYS;
    if (r != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&dw->poll), [](uv_handle_t* h) {
        Deathwatch* d = static_cast<Deathwatch*>(h->data);
        close(d->epfd);
        delete d;
      });
      return Napi::Number::New(env, r);
    }
    uv_unref(reinterpret_cast<uv_handle_t*>(&dw->poll));
    dw->context = std::make_unique<Napi::AsyncContext>(env, "tcp-vitals:deathwatch");
    {
      std::lock_guard<std::mutex> lock(registry_mutex);
      registry[env] = dw;
    }
  }
  dw->callback = Napi::Persistent(info[0].As<Napi::Function>());
  dw->out = Napi::Persistent(info[1].As<Napi::Float64Array>());
  return Napi::Number::New(env, 0);
}

// deathwatchAdd(fd, userTimeoutMs, keepIdleS, keepIntervalS, keepCount, rtoMaxMs)
//   -> SO_COOKIE (a number > 0), or -errno. Sets the options, reads the cookie
//   and registers the fd, in one call.
Napi::Value JsDeathwatchAdd(const Napi::CallbackInfo& info) {
  RequireArgs(info, 6);
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  ProtectOptions o = ArgOptions(info, 1);
  Deathwatch* dw = Find(env);
  if (dw == nullptr) throw Napi::Error::New(env, "deathwatchOpen() first");
  int r = ApplyProtectOptions(fd, o);
  if (r < 0) return Napi::Number::New(env, r);
  uint64_t cookie = 0;
  r = ReadCookie(fd, &cookie);
  if (r < 0) return Napi::Number::New(env, r);
  const uint64_t tag = (static_cast<uint64_t>(static_cast<uint32_t>(cookie)) << 32) | static_cast<uint32_t>(fd);
  r = EpollAddDeathwatch(dw->epfd, fd, tag);
  if (r < 0) return Napi::Number::New(env, r);
  return Napi::Number::New(env, static_cast<double>(cookie));
}

// deathwatchWatch(fd, tag, userTimeoutMs, keepIdleS, keepIntervalS, keepCount, rtoMaxMs)
//   -> 0 or -errno. protect()'s per-connection call: sets the options when
//   userTimeoutMs > 0 (KEEPCNT only when keepCount > 0), then registers the fd
//   tagged (fd, tag) when tag >= 0. No SO_COOKIE: the caller's tag (a
//   generation number it keeps per fd) tells a reused fd number apart, and
//   its close hook takes the fd out of its table before the number can be reused.
Napi::Value JsDeathwatchWatch(const Napi::CallbackInfo& info) {
  RequireArgs(info, 7);
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  int32_t tag = ArgInt32(info, 1, "tag");
  ProtectOptions o = ArgOptions(info, 2);
  Deathwatch* dw = Find(env);
  if (dw == nullptr) throw Napi::Error::New(env, "deathwatchOpen() first");
  if (o.user_timeout_ms > 0) {
    int r = ApplyProtectOptions(fd, o);
    if (r < 0) return Napi::Number::New(env, r);
  }
  if (tag < 0) return Napi::Number::New(env, 0);
  const uint64_t t = (static_cast<uint64_t>(static_cast<uint32_t>(tag)) << 32) | static_cast<uint32_t>(fd);
  return Napi::Number::New(env, EpollAddDeathwatch(dw->epfd, fd, t));
}

// deathwatchApply(fd, userTimeoutMs, keepIdleS, keepIntervalS, keepCount, rtoMaxMs) -> 0 or -errno.
Napi::Value JsDeathwatchApply(const Napi::CallbackInfo& info) {
  RequireArgs(info, 6);
  int fd = ArgFd(info, 0);
  ProtectOptions o = ArgOptions(info, 1);
  return Napi::Number::New(info.Env(), ApplyProtectOptions(fd, o));
}

}  // namespace tv
