// The GPUs this gpu-waiter has chosen: each locked, and (unless --no-hold) held with memory by
// the holder process, from the moment it is chosen until the command has it or gives it up.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/holder.hpp"
#include "cli/options.hpp"
#include "driver/gpu.hpp"
#include "lock/gpu_lock.hpp"
#include "ui/reporter.hpp"

namespace gw {

struct HoldSettings {
    bool enabled = true;
    double fraction = kDefaultHoldFraction;
};

class HeldGpus {
public:
    /// `start_holder` starts the holder when the first GPU is to be held.
    HeldGpus(StartHolder start_holder, Reporter& reporter, HoldSettings settings);
    ~HeldGpus();
    HeldGpus(const HeldGpus&) = delete;
    HeldGpus& operator=(const HeldGpus&) = delete;

    /// Takes a GPU whose lock we have: asks the holder to hold it.
    void add(const GpuIdentity& gpu, std::unique_ptr<HeldLock> lock);
    /// Gives a GPU up entirely: its hold and its lock.
    void give_up(const std::string& uuid);
    /// Ends the hold on a GPU but keeps its lock (the command has the GPU now).
    void release_hold(const std::string& uuid);
    /// Ends every hold, and the holder with them.
    void release_all_holds();

    [[nodiscard]] bool contains(const std::string& uuid) const { return gpus_.contains(uuid); }
    [[nodiscard]] std::size_t size() const { return gpus_.size(); }
    [[nodiscard]] std::vector<GpuIdentity> identities() const;
    /// The holder's pid: its processes on our GPUs are ours, not foreign.
    [[nodiscard]] std::optional<long> holder_pid() const;
    /// Whether the hold on `uuid` is in place (the holder confirmed it).
    [[nodiscard]] bool hold_in_place(const std::string& uuid) const;
    /// GPUs whose hold is requested or in place.
    [[nodiscard]] std::vector<std::string> holding() const;
    /// Used memory of the GPU right after its hold was made, when known.
    [[nodiscard]] std::optional<std::uint64_t> used_with_hold(const std::string& uuid) const;
    void set_used_with_hold(const std::string& uuid, std::uint64_t used);

    /// The descriptor to wake on when the holder answers (-1 without a holder).
    [[nodiscard]] int reply_fd() const;
    /// Reads the holder's answers. Returns the GPUs whose hold failed, with the reason.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> collect_replies();
    /// The locks' open files, for the command to inherit: the GPUs then stay locked while it,
    /// or any process it started, lives, even if gpu-waiter is killed.
    [[nodiscard]] std::vector<NativeHandle> lock_handles() const;
    /// Records the lock state for --status.
    void set_lock_state(const std::string& uuid, LockState state, LockOwner owner);

private:
    enum class HoldState { none, requested, held, released };
    struct Entry {
        GpuIdentity gpu;
        std::unique_ptr<HeldLock> lock;
        HoldState hold = HoldState::none;
        std::optional<std::uint64_t> used_with_hold;
    };
    [[nodiscard]] Entry* by_bus_id(const std::string& bus_id);
    void stop_holder_if_idle();

    StartHolder start_holder_;
    Reporter& reporter_;
    HoldSettings settings_;
    std::map<std::string, Entry> gpus_;  // by UUID
    std::unique_ptr<Holder> holder_;
};

}  // namespace gw
