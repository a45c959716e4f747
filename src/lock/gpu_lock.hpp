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

/// Where a locked GPU is in its life: held for the command before it uses the GPU, then handed
/// over to it. Written as "held" and "handed over" (lock_state_text).
enum class LockState { held, handed_over };

/// Who holds a lock, as written into the lock file for `--status`.
struct LockOwner {
    long pid = 0;
    std::string user;
    std::string command;
    long long since = 0;         // seconds since the epoch
    LockState state = LockState::held;
    long command_pid = 0;        // the command, once launched: it keeps the lock after us
    std::string name;               // the job's --name, or empty
    std::vector<std::string> argv;  // the command, word by word
};

/// A GPU's lock while we have it, from construction to destruction. GpuLock is the real side.
class HeldLock {
public:
    virtual ~HeldLock() = default;
    /// Rewrites the owner record (e.g. its state).
    virtual void record(const LockOwner& owner) = 0;
    /// The open, locked lock file, for the command to inherit; kNoHandle where there is none.
    [[nodiscard]] virtual NativeHandle handle() const = 0;
};

class GpuLock final : public HeldLock {
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
    ~GpuLock() override;
    GpuLock(const GpuLock&) = delete;
    GpuLock& operator=(const GpuLock&) = delete;

    [[nodiscard]] const std::string& uuid() const { return uuid_; }
    void record(const LockOwner& owner) override;
    [[nodiscard]] NativeHandle handle() const override { return file_; }

private:
    GpuLock(std::string uuid, std::string path, NativeHandle file)
        : uuid_(std::move(uuid)), path_(std::move(path)), file_(file) {}
    std::string uuid_;
    std::string path_;
    NativeHandle file_;  // open and locked from construction to destruction
};

/// The lock file name of a GPU inside the lock directory.
[[nodiscard]] std::string lock_file_name(const std::string& uuid);

/// "held", "handed over": a state as lock files and --status name it.
[[nodiscard]] const char* lock_state_text(LockState state);

/// JSON text of an owner record, and back: the lock file's content. nullopt when malformed.
[[nodiscard]] std::string encode_owner(const LockOwner& owner);
[[nodiscard]] std::optional<LockOwner> decode_owner(const std::string& text);

}  // namespace gw
