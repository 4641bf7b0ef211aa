/*
 * An LD_PRELOAD stand-in for the Linux NSM driver (drivers/misc/nsm.c), for test/runtime/nsm-native.test.ts.
 *
 * It replaces ioctl() in the process. Calls on any descriptor other than the fake device (a regular file
 * whose path is in FAKE_NSM_DEVICE) go to the real ioctl. On the fake device it behaves like the driver:
 * it accepts only NSM_IOCTL_RAW, refuses a request longer than NSM_REQUEST_MAX_SIZE, records what it was
 * given (FAKE_NSM_RECORD: the request bytes; FAKE_NSM_RECORD.meta: request number and buffer sizes), and
 * answers with the bytes of FAKE_NSM_RESPONSE, truncated to the response buffer as the driver does. The
 * FAKE_NSM_MODE variable makes it misbehave in one way at a time (see answer()).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nsm_iovec {
  uint64_t addr;
  uint64_t len;
};
struct nsm_raw {
  struct nsm_iovec request;
  struct nsm_iovec response;
};

/* _IOWR(0x0A, 0, struct nsm_raw), spelled out: dir read|write (3) << 30, size 32 << 16, type 0x0A << 8, nr 0. */
#define EXPECTED_REQUEST 0xC0200A00UL
#define NSM_REQUEST_MAX_SIZE 0x1000
#define CANNED_MAX (64 * 1024)

static int interrupted_once;

static int is_fake_device(int fd) {
  const char *fake = getenv("FAKE_NSM_DEVICE");
  char link[64];
  char target[PATH_MAX];
  if (fake == NULL) return 0;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t length = readlink(link, target, sizeof target - 1);
  if (length < 0) return 0;
  target[length] = '\0';
  return strcmp(target, fake) == 0;
}

static void record(unsigned long number, const struct nsm_raw *raw) {
  const char *path = getenv("FAKE_NSM_RECORD");
  if (path == NULL) return;
  FILE *file = fopen(path, "wb");
  if (file == NULL) return;
  fwrite((const void *)(uintptr_t)raw->request.addr, 1, (size_t)raw->request.len, file);
  fclose(file);
  char meta_path[PATH_MAX];
  snprintf(meta_path, sizeof meta_path, "%s.meta", path);
  file = fopen(meta_path, "w");
  if (file == NULL) return;
  fprintf(file, "{\"number\":%lu,\"requestLength\":%llu,\"responseCapacity\":%llu}", number,
          (unsigned long long)raw->request.len, (unsigned long long)raw->response.len);
  fclose(file);
}

static int answer(struct nsm_raw *raw) {
  const char *mode = getenv("FAKE_NSM_MODE");
  if (mode == NULL) mode = "ok";
  if (strcmp(mode, "emsgsize") == 0) {
    errno = EMSGSIZE;
    return -1;
  }
  if (strcmp(mode, "positive") == 0) return 1;
  if (strcmp(mode, "eintr-once") == 0 && !__atomic_exchange_n(&interrupted_once, 1, __ATOMIC_SEQ_CST)) {
    errno = EINTR;
    return -1;
  }
  if (strcmp(mode, "overlong-length") == 0) {
    raw->response.len += 1; /* claims one byte more than the buffer holds; writes nothing */
    return 0;
  }
  if (strcmp(mode, "huge-length") == 0) {
    raw->response.len = UINT64_MAX;
    return 0;
  }
  if (strcmp(mode, "moved-buffer") == 0) {
    raw->response.addr += 16;
    return 0;
  }
  static unsigned char canned[CANNED_MAX];
  FILE *file = fopen(getenv("FAKE_NSM_RESPONSE"), "rb");
  if (file == NULL) {
    errno = EIO;
    return -1;
  }
  size_t length = fread(canned, 1, sizeof canned, file);
  fclose(file);
  /* drivers/misc/nsm.c parse_resp_raw: copy min(response.len, answer length), report that length. */
  if (length > raw->response.len) length = (size_t)raw->response.len;
  memcpy((void *)(uintptr_t)raw->response.addr, canned, length);
  raw->response.len = length;
  return 0;
}

int ioctl(int fd, unsigned long number, ...) {
  va_list arguments;
  va_start(arguments, number);
  void *argument = va_arg(arguments, void *);
  va_end(arguments);
  if (!is_fake_device(fd)) {
    int (*real_ioctl)(int, unsigned long, ...) = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real_ioctl(fd, number, argument);
  }
  if (number != EXPECTED_REQUEST) {
    errno = EINVAL; /* drivers/misc/nsm.c: any other command is -EINVAL */
    return -1;
  }
  struct nsm_raw *raw = argument;
  record(number, raw);
  if (raw->request.len > NSM_REQUEST_MAX_SIZE) {
    errno = EINVAL;
    return -1;
  }
  return answer(raw);
}
