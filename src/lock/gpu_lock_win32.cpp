#include "common/win32.hpp"
#include "lock/directory_watch.hpp"
#include "lock/file_lock_win32.hpp"
#include "lock/gpu_lock.hpp"
#include "lock/shared_file.hpp"
#include "process/process_table.hpp"

namespace gw {

std::unique_ptr<GpuLock> GpuLock::try_acquire(const LockDirectory& dir, const std::string& uuid,
                                              const LockOwner& owner, std::string* unusable) {
    std::string path = dir.entry(lock_file_name(uuid));
    std::string why;
    UniqueHandle file = open_shared_file(path, why);
    if (!file.valid()) {
        if (unusable != nullptr) *unusable = why;
        return nullptr;
    }
    if (!win32::lock_file(win32::handle(file.get()), win32::LockWait::no, path)) return nullptr;
    std::unique_ptr<GpuLock> lock(new GpuLock(uuid, path, file.release()));
    lock->record(owner);
    return lock;
}

void GpuLock::record(const LockOwner& owner) {
    // Best effort: the record is for people reading --status; the lock is what protects.
    (void)win32::replace_content(win32::handle(file_), encode_owner(owner));
}

GpuLock::~GpuLock() {
    // The command never shares this handle (it runs in a job object that ends with us), so
    // unlocking is safe here. Empty the record first so a reader never sees a stale owner on a free lock; announce
    // only after unlocking, so that a waiter woken by it finds the lock free.
    HANDLE file = win32::handle(file_);
    (void)win32::replace_content(file, {});
    win32::unlock_file(file);
    announce_release(file_);
    CloseHandle(file);
}

std::optional<LockOwner> GpuLock::holder(const LockDirectory& dir, const std::string& uuid) {
    // Read without locking, as on POSIX: the record lies outside the locked byte.
    std::string why;
    UniqueHandle file = open_shared_for_reading(dir.entry(lock_file_name(uuid)), why);
    if (!file.valid()) return std::nullopt;
    auto owner = decode_owner(read_shared_file(file.get()));
    if (!owner || !process_alive(owner->pid)) return std::nullopt;
    return owner;
}

}  // namespace gw
