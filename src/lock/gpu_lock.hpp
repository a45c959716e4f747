// An exclusive, per-GPU lock that every gpu-waiter of the machine honours. The operating system
// releases it when its holder dies in any way (kill -9 included), so no lock is ever stale.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_handle.hpp"
#include "lock/lock_directory.hpp"

namespace gw {

/// Who holds a lock, as written into the lock file for `--status`.
struct LockOwner {
    long pid = 0;
    std::string user;
    std::string command;
    long long since = 0;         // seconds since the epoch
    std::string state = "held";  // "held" before the command uses the GPU, then "handed over"
    long command_pid = 0;        // the command, once launched: it keeps the lock after us
    std::string name;               // the job's --name, or empty
    std::vector<std::string> argv;  // the command, word by word
};

class GpuLock {
public:
    /// Takes the lock of GPU `uuid` without waiting. nullptr when another process holds it, or
    /// when the entry in the lock file's place is unusable (shared_file.hpp): then `unusable`,
    /// when given, says why. Throws Error only when the system fails us.
    [[nodiscard]] static std::unique_ptr<GpuLock> try_acquire(const LockDirectory& dir,
                                                              const std::string& uuid,
                                                              const LockOwner& owner,
                                                              std::string* unusable = nullptr);
    /// Reads the owner recorded in a lock file, if it is held right now (by gpu-waiter or, after
    /// gpu-waiter died, by its command).
    [[nodiscard]] static std::optional<LockOwner> holder(const LockDirectory& dir,
                                                         const std::string& uuid);
    /// Releases the lock, unless the command (or a process it started) still has it: the
    /// command inherits the lock's descriptor (POSIX), so the GPU stays locked while any of them
    /// lives, whatever becomes of gpu-waiter.
    ~GpuLock();
    GpuLock(const GpuLock&) = delete;
    GpuLock& operator=(const GpuLock&) = delete;

    [[nodiscard]] const std::string& uuid() const { return uuid_; }
    /// Rewrites the owner record (e.g. its state).
    void record(const LockOwner& owner);
    /// The open, locked lock file, for the command to inherit.
    [[nodiscard]] NativeHandle handle() const { return file_; }

private:
    GpuLock(std::string uuid, std::string path, NativeHandle file)
        : uuid_(std::move(uuid)), path_(std::move(path)), file_(file) {}
    std::string uuid_;
    std::string path_;
    NativeHandle file_;  // open and locked from construction to destruction
};

/// The lock file name of a GPU inside the lock directory.
[[nodiscard]] std::string lock_file_name(const std::string& uuid);

/// JSON text of an owner record, and back: the lock file's content. nullopt when malformed.
[[nodiscard]] std::string encode_owner(const LockOwner& owner);
[[nodiscard]] std::optional<LockOwner> decode_owner(const std::string& text);

}  // namespace gw
