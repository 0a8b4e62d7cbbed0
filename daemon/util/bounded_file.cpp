#include "daemon/util/bounded_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cosync {
namespace {

Failure failure(const std::string& path, const std::string& why) { return Failure{FailureKind::fatal, path + ": " + why, 0, ""}; }

// Closes the descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Expected<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes, FileAccess access) {
  // O_NONBLOCK: opening a FIFO with no writer must not wait; the checks below refuse it anyway.
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0) return failure(path, std::string("cannot read the file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return failure(path, std::string("cannot read the file: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return failure(path, "not a regular file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    return failure(path, "larger than " + std::to_string(max_bytes) + " bytes");
  if (access == FileAccess::secret) {
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
      return failure(path, "a secret file must be owned by the user running cosyncd (uid " +
                               std::to_string(::geteuid()) + ") or root");
    if (st.st_mode & (S_IWGRP | S_IRWXO))
      return failure(path, "a secret file must not be readable by others nor writable by its group (mode " +
                               octal_mode(st.st_mode) + "; chmod 600 it)");
  }
  // Read up to one byte past the cap: the size stat gave may have grown since.
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(file.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failure(path, std::string("cannot read the file: ") + std::strerror(errno));
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) return failure(path, "larger than " + std::to_string(max_bytes) + " bytes");
  }
  return content;
}

}  // namespace cosync
