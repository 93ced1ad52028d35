// Fleet policies: the plugin watches a JetStream key-value bucket of TracingPolicy documents
// (one key per policy, written by `vigil fleet policy add`), hands each put and delete to the
// host (ABI 1.3 policy source), and writes the host's verdict for this node to a status bucket
// under "<key>.<node>". After a lost connection it watches again from the bucket's current
// content and removes what was deleted meanwhile, so a node that was offline catches up.
#pragma once

#include "connection.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace vigil::nats {

class PolicyWatcher {
public:
    PolicyWatcher(Settings settings, const vigil::sdk::Host& host);
    ~PolicyWatcher();
    void start();
    void stop();
    // The host's verdict (its event loop): queued for the watcher's thread.
    void verdict(const vigil_policy_verdict& v);

private:
    struct Verdict {
        std::string key, state, policy, mode, error;
        uint64_t revision = 0;
    };
    void run();
    bool ensure_buckets();
    void close();
    void on_entry(kvEntry* e);
    void write_verdicts();
    void forget_verdicts();
    void warn(const std::string& text);
    bool wait_for(std::chrono::milliseconds d);

    Settings s_;
    const vigil::sdk::Host& host_;
    std::string node_; // as a key token
    Connection nc_;
    jsCtx* js_ = nullptr;
    kvStore* policies_ = nullptr;
    kvStore* status_ = nullptr;
    kvWatcher* watcher_ = nullptr;
    bool initial_ = false;          // replaying the bucket's current content
    std::set<std::string> seen_;    // keys with a document in that replay
    std::set<std::string> applied_; // keys handed to the host as puts
    std::map<std::string, std::pair<uint64_t, size_t>> oversized_; // key -> (revision, bytes)
    std::string last_warning_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Verdict> verdicts_;
    bool quit_ = false;
    std::thread thread_;
};

} // namespace vigil::nats
