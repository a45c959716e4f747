#include <unistd.h>

#include "common/unique_fd.hpp"

namespace gw {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

}  // namespace gw
