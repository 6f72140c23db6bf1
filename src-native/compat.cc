// Keeps the shipped binaries loadable on the oldest supported systems (glibc
// 2.28: RHEL/UBI 8, Debian 10, Ubuntu 20.04, whose libstdc++ is GCC 8's,
// GLIBCXX_3.4.25). GCC 11+ headers make std::allocator call
// std::__throw_bad_array_new_length, which libstdc++ exports only from
// GLIBCXX_3.4.29 (GCC 11). This hidden copy is what the binary binds to
// instead; it does what libstdc++'s does. scripts/check-prebuilds.js checks
// that no prebuild needs a newer GLIBCXX/CXXABI than GCC 8's.
#include <new>

namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() {
  throw bad_array_new_length();
}
}  // namespace std
