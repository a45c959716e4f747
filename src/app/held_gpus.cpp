#include "app/held_gpus.hpp"

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {

HeldGpus::HeldGpus(StartHolder start_holder, Reporter& reporter, HoldSettings settings)
    : start_holder_(std::move(start_holder)), reporter_(reporter), settings_(settings) {}

// The holder goes first (its memory freed and its process gone), then the locks: whoever takes
// a GPU next must not find our hold on it.
HeldGpus::~HeldGpus() {
    holder_.reset();
    gpus_.clear();
}

void HeldGpus::add(const GpuIdentity& gpu, std::unique_ptr<HeldLock> lock) {
    Entry& e = gpus_[gpu.uuid];
    e.gpu = gpu;
    e.lock = std::move(lock);
    if (!settings_.enabled) return;
    if (gpu.mig) {
        // One CUDA process sees one MIG instance: the single holder cannot hold them.
        reporter_.detail(
            fmt::format("GPU {}: MIG instances are locked, not held", unit_label(gpu)));
        return;
    }
    if (!holder_) {
        try {
            holder_ = start_holder_();
        } catch (const Error& err) {
            reporter_.warning(
                fmt::format("cannot start the holder, GPUs are not held: {}", err.what()));
            settings_.enabled = false;
            return;
        }
    }
    holder_->send(hold::Request{hold::Request::Kind::hold, gpu.pci_bus_id, settings_.fraction});
    e.hold = HoldState::requested;
}

void HeldGpus::give_up(const std::string& uuid) {
    release_hold(uuid);
    gpus_.erase(uuid);
}

void HeldGpus::release_hold(const std::string& uuid) {
    auto it = gpus_.find(uuid);
    if (it == gpus_.end()) return;
    Entry& e = it->second;
    if (e.hold == HoldState::requested || e.hold == HoldState::held) {
        if (holder_)
            holder_->send(hold::Request{hold::Request::Kind::release, e.gpu.pci_bus_id, 0});
        e.hold = HoldState::released;
    }
    stop_holder_if_idle();
}

void HeldGpus::release_all_holds() {
    for (auto& [uuid, e] : gpus_) {
        if (e.hold != HoldState::none) e.hold = HoldState::released;
    }
    holder_.reset();
}

void HeldGpus::stop_holder_if_idle() {
    // Once nothing is held, the holder (and libcuda's memory with it) has no reason to stay.
    if (holding().empty()) holder_.reset();
}

std::vector<GpuIdentity> HeldGpus::identities() const {
    std::vector<GpuIdentity> out;
    for (const auto& [uuid, e] : gpus_) out.push_back(e.gpu);
    return out;
}

std::optional<long> HeldGpus::holder_pid() const {
    if (!holder_) return std::nullopt;
    return holder_->pid();
}

std::vector<std::string> HeldGpus::holding() const {
    std::vector<std::string> out;
    for (const auto& [uuid, e] : gpus_) {
        if (e.hold == HoldState::requested || e.hold == HoldState::held) out.push_back(uuid);
    }
    return out;
}

bool HeldGpus::hold_in_place(const std::string& uuid) const {
    auto it = gpus_.find(uuid);
    return it != gpus_.end() && it->second.hold == HoldState::held;
}

std::optional<std::uint64_t> HeldGpus::used_with_hold(const std::string& uuid) const {
    auto it = gpus_.find(uuid);
    return it == gpus_.end() ? std::nullopt : it->second.used_with_hold;
}

void HeldGpus::set_used_with_hold(const std::string& uuid, std::uint64_t used) {
    if (auto it = gpus_.find(uuid); it != gpus_.end()) it->second.used_with_hold = used;
}

int HeldGpus::reply_fd() const {
    return holder_ ? holder_->reply_fd() : -1;
}

HeldGpus::Entry* HeldGpus::by_bus_id(const std::string& bus_id) {
    for (auto& [uuid, e] : gpus_) {
        if (e.gpu.pci_bus_id == bus_id) return &e;
    }
    return nullptr;
}

std::vector<std::pair<std::string, std::string>> HeldGpus::collect_replies() {
    std::vector<std::pair<std::string, std::string>> failures;
    if (!holder_) return failures;
    for (const hold::Reply& r : holder_->take_replies()) {
        Entry* e = by_bus_id(r.bus_id);
        if (e == nullptr || e->hold != HoldState::requested) continue;  // a late answer
        if (r.kind == hold::Reply::Kind::held) {
            e->hold = HoldState::held;
            reporter_.detail(fmt::format("holding {} on GPU {} (CUDA device {})",
                                         format_bytes(r.bytes), e->gpu.index, r.ordinal));
        } else if (r.kind == hold::Reply::Kind::failed) {
            e->hold = HoldState::none;
            failures.emplace_back(e->gpu.uuid, r.text);
        }
    }
    if (holder_->gone()) {
        for (auto& [uuid, e] : gpus_) {
            if (e.hold == HoldState::requested || e.hold == HoldState::held) {
                e.hold = HoldState::none;
                failures.emplace_back(uuid, "the holder process ended");
            }
        }
        holder_.reset();
    }
    return failures;
}

void HeldGpus::set_lock_state(const std::string& uuid, LockState state, LockOwner owner) {
    auto it = gpus_.find(uuid);
    if (it == gpus_.end()) return;
    owner.state = state;
    it->second.lock->record(owner);
}

std::vector<NativeHandle> HeldGpus::lock_handles() const {
    std::vector<NativeHandle> out;
    for (const auto& [uuid, entry] : gpus_) out.push_back(entry.lock->handle());
    return out;
}

}  // namespace gw
