// The GPUs this gpu-waiter has chosen: each locked, and (unless --no-hold) held with memory by
// a holder process, from the moment it is chosen until the command has it or gives it up. One
// holder holds every whole GPU; each MIG instance has its own, since a CUDA process can use only
// one instance.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
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
    /// The holders' pids: their processes on our GPUs are ours, not foreign.
    [[nodiscard]] std::set<long> holder_pids() const;
    /// Whether the hold on `uuid` is in place (the holder confirmed it).
    [[nodiscard]] bool hold_in_place(const std::string& uuid) const;
    /// GPUs whose hold is requested or in place.
    [[nodiscard]] std::vector<std::string> holding() const;
    /// Used memory of the GPU right after its hold was made, when known.
    [[nodiscard]] std::optional<std::uint64_t> used_with_hold(const std::string& uuid) const;
    void set_used_with_hold(const std::string& uuid, std::uint64_t used);

    /// What to wake on when a holder answers (nothing without a holder).
    [[nodiscard]] std::vector<NativeHandle> reply_fds() const;
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
    /// The holder a unit is held by: "" for whole GPUs, else the MIG instance's UUID (also what
    /// that holder is given as CUDA_VISIBLE_DEVICES).
    [[nodiscard]] static std::string holder_scope(const GpuIdentity& gpu);
    [[nodiscard]] Holder* holder_for(const GpuIdentity& gpu);
    void collect_from(const std::string& scope, Holder& holder,
                      std::vector<std::pair<std::string, std::string>>& failures);
    void stop_idle_holders();

    StartHolder start_holder_;
    Reporter& reporter_;
    HoldSettings settings_;
    std::map<std::string, Entry> gpus_;                       // by UUID
    std::map<std::string, std::unique_ptr<Holder>> holders_;  // by holder_scope
};

}  // namespace gw
