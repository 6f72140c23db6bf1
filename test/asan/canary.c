/*
 * A deliberately broken addon for the sanitizer runs: proves the set-up
 * (LD_PRELOAD of the runtime, flags, options) really catches a bug in a
 * module loaded into a non-instrumented node. `overflow()` writes one byte
 * past a heap block; `shift()` is signed-overflow UB; `leak()` loses a block.
 * scripts/sanitize.sh expects each to be reported; a run that reports nothing
 * here would make its clean result on the real addon meaningless.
 */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

static volatile int sink;

static napi_value overflow(napi_env env, napi_callback_info info) {
  char* p = malloc(16);
  volatile size_t n = 17; /* one byte too many (volatile: no compile-time warning) */
  memset(p, 0, n);
  sink = p[3];
  free(p);
  return NULL;
}

static napi_value shift(napi_env env, napi_callback_info info) {
  volatile int big = 0x7fffffff;
  sink = big + 1; /* signed overflow */
  return NULL;
}

static napi_value leak(napi_env env, napi_callback_info info) {
  void* volatile p = malloc(4242);
  memset(p, 1, 4242);
  p = NULL;
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "overflow", NAPI_AUTO_LENGTH, overflow, NULL, &f);
  napi_set_named_property(env, exports, "overflow", f);
  napi_create_function(env, "shift", NAPI_AUTO_LENGTH, shift, NULL, &f);
  napi_set_named_property(env, exports, "shift", f);
  napi_create_function(env, "leak", NAPI_AUTO_LENGTH, leak, NULL, &f);
  napi_set_named_property(env, exports, "leak", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
