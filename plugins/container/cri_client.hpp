// A CRI (runtime.v1) client for one runtime socket: lists pods and containers with a deadline.
// Blocking; the plugin calls it from its own thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vigil::container {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct CriContainer {
    std::string id;
    std::string name;
    std::string image_name, image_id;
    int64_t created_ns = 0;
    std::string pod_name, pod_namespace, pod_uid; // empty pod_name: the sandbox was not listed
    Pairs pod_labels, pod_annotations;
};

class CriClient {
public:
    // socket: a unix socket path. Connects lazily.
    CriClient(std::string socket, std::chrono::milliseconds timeout);
    ~CriClient();
    CriClient(const CriClient&) = delete;
    CriClient& operator=(const CriClient&) = delete;

    // "containerd", "cri-o", ...: the runtime's own name (Version), cached after the first answer.
    std::expected<std::string, std::string> runtime_name();
    // Every container the runtime knows, with its pod's metadata. An error names the call and
    // the gRPC status.
    std::expected<std::vector<CriContainer>, std::string> list();

    const std::string& socket() const { return socket_; }

private:
    struct Impl;
    std::string socket_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<Impl> impl_;
    std::string runtime_;
};

} // namespace vigil::container
