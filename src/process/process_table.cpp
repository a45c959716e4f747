#include "process/process_table.hpp"

#include <map>

namespace gw {

std::set<long> process_tree(long root, const std::vector<ProcessInfo>& table) {
    std::multimap<long, long> children;
    for (const ProcessInfo& p : table) children.emplace(p.parent, p.pid);
    std::set<long> tree{root};
    std::vector<long> todo{root};
    while (!todo.empty()) {
        long pid = todo.back();
        todo.pop_back();
        auto [first, last] = children.equal_range(pid);
        for (auto it = first; it != last; ++it) {
            if (tree.insert(it->second).second) todo.push_back(it->second);
        }
    }
    return tree;
}

}  // namespace gw
