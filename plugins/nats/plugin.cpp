// The NATS plugin: an exporter (SDK contract of ABI 1.3) that publishes every event vigild
// exports to a JetStream stream, on the subject vigil.events.<node>.<event kind>, at least once
// (publisher.hpp). docs/fleet.md describes the topology and the guarantees.
#include "connection.hpp"
#include "fleet.hpp"
#include "publisher.hpp"

#include <memory>

namespace {

using vigil::nats::PolicyWatcher;
using vigil::nats::Publisher;
using vigil::nats::Settings;

class NatsPlugin {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d = [] {
            vigil::sdk::Descriptor x("nats", "NATS JetStream exporter", "0.1.0");
            x.description("Events to a NATS JetStream stream (vigil.events.<node>.<kind>), at least once; fleet policies "
                          "from a key-value bucket")
                .license("Apache-2.0")
                .min_host_minor(3); // export_events / export_status
            vigil::nats::describe_config(x);
            return x;
        }();
        return d.get();
    }

    NatsPlugin(vigil::sdk::Host& host, const vigil::sdk::Config& cfg) : host_(host), settings_(Settings::from(cfg)) {}

    void start()
    {
        publisher_ = std::make_unique<Publisher>(settings_, "vigild", [this](const std::string& msg) { host_.warn(msg); });
        publisher_->start();
        if (settings_.fleet_policies) {
            policies_ = std::make_unique<PolicyWatcher>(settings_, host_);
            policies_->start();
        }
    }
    void stop()
    {
        policies_.reset(); // stops watching
        if (!publisher_)
            return;
        publisher_->stop();
        // what it did stays visible while the plugin is stopped
        last_ = {};
        last_.struct_size = sizeof last_;
        publisher_->status(last_);
        publisher_.reset();
    }

    size_t export_events(std::span<const vigil_export_event> events)
    {
        return publisher_ ? publisher_->offer(events) : 0;
    }
    void policy_verdict(const vigil_policy_verdict& v)
    {
        if (policies_)
            policies_->verdict(v);
    }
    void export_status(vigil_export_status& st)
    {
        if (publisher_)
            publisher_->status(st);
        else
            st = last_;
    }

private:
    vigil::sdk::Host& host_;
    Settings settings_;
    std::unique_ptr<Publisher> publisher_;
    std::unique_ptr<PolicyWatcher> policies_; // fleet_policies = true
    vigil_export_status last_{};
};

} // namespace

VIGIL_PLUGIN(NatsPlugin)
