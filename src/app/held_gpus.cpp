#include "app/held_gpus.hpp"

#include <fmt/format.h>

#include "common/error.hpp"

namespace gw {

HeldGpus::HeldGpus(StartHolder start_holder, Reporter& reporter, HoldSettings settings)
    : start_holder_(std::move(start_holder)), reporter_(reporter), settings_(settings) {}

// The holders go first (their memory freed and their processes gone), then the locks: whoever
// takes a GPU next must not find our hold on it.
HeldGpus::~HeldGpus() {
    holders_.clear();
    gpus_.clear();
}

std::string HeldGpus::holder_scope(const GpuIdentity& gpu) {
    return gpu.mig ? gpu.uuid : std::string();
}

Holder* HeldGpus::holder_for(const GpuIdentity& gpu) {
    const std::string scope = holder_scope(gpu);
    if (auto it = holders_.find(scope); it != holders_.end()) return it->second.get();
    try {
        return holders_.emplace(scope, start_holder_(scope)).first->second.get();
    } catch (const Error& err) {
        reporter_.warning(
            fmt::format("cannot start the holder, GPUs are not held: {}", err.what()));
        settings_.enabled = false;
        return nullptr;
    }
}

void HeldGpus::add(const GpuIdentity& gpu, std::unique_ptr<HeldLock> lock) {
    Entry& e = gpus_[gpu.uuid];
    e.gpu = gpu;
    e.lock = std::move(lock);
    if (!settings_.enabled) return;
    Holder* holder = holder_for(gpu);
    if (holder == nullptr) return;
    holder->send(hold::Request{hold::Request::Kind::hold, gpu.uuid, settings_.fraction});
    e.hold = HoldState::requested;
}

void HeldGpus::give_up(const std::string& uuid) {
    release_hold(uuid);
    gpus_.erase(uuid);
    stop_idle_holders();
}

void HeldGpus::release_hold(const std::string& uuid) {
    auto it = gpus_.find(uuid);
    if (it == gpus_.end()) return;
    Entry& e = it->second;
    if (e.hold == HoldState::requested || e.hold == HoldState::held) {
        if (auto h = holders_.find(holder_scope(e.gpu)); h != holders_.end())
            h->second->send(hold::Request{hold::Request::Kind::release, uuid, 0});
        e.hold = HoldState::released;
    }
    stop_idle_holders();
}

void HeldGpus::release_all_holds() {
    for (auto& [uuid, e] : gpus_) {
        if (e.hold != HoldState::none) e.hold = HoldState::released;
    }
    holders_.clear();
}

void HeldGpus::stop_idle_holders() {
    // Once a holder holds nothing, it (and libcuda's memory with it) has no reason to stay.
    std::set<std::string> busy;
    for (const auto& [uuid, e] : gpus_) {
        if (e.hold == HoldState::requested || e.hold == HoldState::held)
            busy.insert(holder_scope(e.gpu));
    }
    std::erase_if(holders_, [&](const auto& entry) { return !busy.contains(entry.first); });
}

std::vector<GpuIdentity> HeldGpus::identities() const {
    std::vector<GpuIdentity> out;
    for (const auto& [uuid, e] : gpus_) out.push_back(e.gpu);
    return out;
}

std::set<long> HeldGpus::holder_pids() const {
    std::set<long> pids;
    for (const auto& [scope, holder] : holders_) pids.insert(holder->pid());
    return pids;
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

std::vector<NativeHandle> HeldGpus::reply_fds() const {
    std::vector<NativeHandle> out;
    for (const auto& [scope, holder] : holders_) {
        if (holder->reply_fd() != kNoHandle) out.push_back(holder->reply_fd());
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> HeldGpus::collect_replies() {
    std::vector<std::pair<std::string, std::string>> failures;
    for (auto& [scope, holder] : holders_) collect_from(scope, *holder, failures);
    std::erase_if(holders_, [](const auto& entry) { return entry.second->gone(); });
    return failures;
}

void HeldGpus::collect_from(const std::string& scope, Holder& holder,
                            std::vector<std::pair<std::string, std::string>>& failures) {
    for (const hold::Reply& r : holder.take_replies()) {
        auto it = gpus_.find(r.uuid);
        if (it == gpus_.end() || it->second.hold != HoldState::requested) continue;  // late
        Entry& e = it->second;
        if (r.kind == hold::Reply::Kind::held) {
            e.hold = HoldState::held;
            reporter_.detail(fmt::format("holding {} on GPU {} (CUDA device {})",
                                         format_bytes(r.bytes), unit_label(e.gpu), r.ordinal));
        } else if (r.kind == hold::Reply::Kind::failed) {
            e.hold = HoldState::none;
            failures.emplace_back(e.gpu.uuid, r.text);
        }
    }
    if (!holder.gone()) return;
    for (auto& [uuid, e] : gpus_) {
        if (holder_scope(e.gpu) != scope) continue;
        if (e.hold == HoldState::requested || e.hold == HoldState::held) {
            e.hold = HoldState::none;
            failures.emplace_back(uuid, "the holder process ended");
        }
    }
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
