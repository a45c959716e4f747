// Platforms without a directory notification gpu-waiter uses: waiters rely on their poll.
#include "lock/directory_watch.hpp"

namespace gw {

DirectoryWatch::DirectoryWatch(const std::vector<std::string>&) {}

void DirectoryWatch::drain() {}

void announce_release(NativeHandle) {}

}  // namespace gw
