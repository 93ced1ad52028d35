// A JetStream cluster of real nats-server processes on 127.0.0.1 for the fleet tests: each
// server with its own ports and store directory under the test's temporary directory, started,
// killed and restarted by PID. A client connection (libnats) reads what vigild published.
#pragma once

#include <nats/nats.h>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vigil::fleet_test {

using namespace std::chrono_literals;

std::optional<std::filesystem::path> nats_server_path();

class NatsCluster {
public:
    struct Options {
        int servers = 3;
        bool jetstream = true;
        // "authorization { user: u, password: p }" and the like, added to every server's config
        std::string extra_conf;
    };
    NatsCluster(std::filesystem::path dir, Options opts);
    ~NatsCluster();
    NatsCluster(const NatsCluster&) = delete;
    NatsCluster& operator=(const NatsCluster&) = delete;

    // Starts every server and waits until JetStream answers; throws with the logs otherwise.
    void start_all(std::chrono::milliseconds timeout = 20s);
    void start(int i);
    void kill(int i); // SIGKILL and wait
    void kill_all();
    bool running(int i) const { return servers_[i].pid > 0; }
    int size() const { return static_cast<int>(servers_.size()); }
    // Waits until a JetStream API request succeeds.
    bool wait_ready(std::chrono::milliseconds timeout);

    std::string url(int i) const;
    std::vector<std::string> urls() const;
    // TOML list of every server's URL: ["nats://127.0.0.1:p1", ...]
    std::string toml_urls() const;
    std::string name(int i) const { return "s" + std::to_string(i + 1); }
    std::string log(int i) const;

    // The client side (connects on first use; user/password when the servers want them). The
    // calls below close it again before they return.
    jsCtx* js();
    natsConnection* nc();
    void set_client_auth(std::string user, std::string password);
    // Index of the server leading `stream`, -1 when unknown.
    int stream_leader(const std::string& stream);
    // Every message of `stream` (subject, data), by sequence.
    std::vector<std::pair<std::string, std::string>> messages(const std::string& stream);
    // How many messages `stream` holds (0 when it cannot be asked).
    uint64_t message_count(const std::string& stream);

private:
    struct Server {
        int port, cluster_port;
        std::filesystem::path conf, store, log;
        pid_t pid = -1;
    };
    void write_conf(int i);
    void disconnect();

    std::filesystem::path dir_;
    Options opts_;
    std::vector<Server> servers_;
    std::string user_, password_;
    natsConnection* nc_ = nullptr;
    jsCtx* js_ = nullptr;
};

// A free TCP port on 127.0.0.1 (bound and released; another process may take it meanwhile,
// which start_all() notices as a server that does not come up).
int free_port();

} // namespace vigil::fleet_test
