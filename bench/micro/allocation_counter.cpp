#include "allocation_counter.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>

// This program's malloc family counts its calls and hands them to glibc's allocator, so
// every allocation is seen: operator new's and those of C libraries (msgpack's sbuffer
// calls malloc directly).
namespace {

std::atomic<uint64_t> g_allocations{0};  // allocating calls so far

void count() { g_allocations.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

extern "C" {

void* __libc_malloc(std::size_t size) noexcept;
void* __libc_calloc(std::size_t count, std::size_t size) noexcept;
void* __libc_realloc(void* block, std::size_t size) noexcept;
void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;
void __libc_free(void* block) noexcept;

void* malloc(std::size_t size) noexcept {
  count();
  return __libc_malloc(size);
}

void* calloc(std::size_t items, std::size_t size) noexcept {
  count();
  return __libc_calloc(items, size);
}

void* realloc(void* block, std::size_t size) noexcept {
  count();
  return __libc_realloc(block, size);
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  count();
  return __libc_memalign(alignment, size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  count();
  void* block = __libc_memalign(alignment, size);
  if (block == nullptr) return ENOMEM;
  *out = block;
  return 0;
}

void free(void* block) noexcept { __libc_free(block); }

}  // extern "C"

namespace ccmesh::bench {

uint64_t AllocationCounter::total() { return g_allocations.load(std::memory_order_relaxed); }

}  // namespace ccmesh::bench
