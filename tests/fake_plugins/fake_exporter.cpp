// An exporter plugin (ABI 1.3) for the exporter tests: it appends the JSON of every event it
// takes to [config] path, and can be told to stall (take nothing: always full) or to fail.
#include <vigil/sdk/descriptor.hpp>
#include <vigil/sdk/exporter.hpp>
#include <vigil/sdk/plugin.hpp>

#include <atomic>
#include <fstream>
#include <mutex>
#include <string>

namespace {

class FakeExporter {
public:
    static const vigil_descriptor& descriptor()
    {
        static const vigil::sdk::Descriptor d = vigil::sdk::Descriptor("fexp", "Fake exporter", "0.1.0")
                                                    .license("Apache-2.0")
                                                    .min_host_minor(3)
                                                    .config_string("path", "file the events go to", "\"\"")
                                                    .config_bool("stall", "take nothing: always full", "false")
                                                    .config_bool("fail", "refuse every event with an error", "false");
        return d.get();
    }
    FakeExporter(vigil::sdk::Host&, const vigil::sdk::Config& cfg)
        : out_(cfg.get_string("path", ""), std::ios::app), stall_(cfg.get_bool("stall", false)),
          fail_(cfg.get_bool("fail", false))
    {
    }
    void start() {}
    void stop() { out_.flush(); }
    size_t export_events(std::span<const vigil_export_event> events)
    {
        if (fail_)
            throw vigil::sdk::Error(VIGIL_ERR_INVALID, "told to fail");
        if (stall_)
            return 0;
        std::lock_guard lock(mu_);
        for (const auto& ev : events) {
            auto e = vigil::sdk::exported(ev);
            out_ << e.node << ' ' << e.kind << ' ' << e.json << '\n';
        }
        out_.flush();
        taken_ += events.size();
        return events.size();
    }
    void export_status(vigil_export_status& st)
    {
        st.connected = !stall_;
        st.accepted = st.delivered = taken_;
    }

private:
    std::mutex mu_;
    std::ofstream out_;
    bool stall_, fail_;
    std::atomic<uint64_t> taken_{0};
};

} // namespace

#ifdef FAKE_HALF_EXPORTER
extern "C" __attribute__((visibility("default"))) const vigil_plugin_api* vigil_plugin_get_api(void)
{
    static const vigil_plugin_api a = [] {
        vigil_plugin_api x = *vigil::sdk::detail::trampolines<FakeExporter>::api();
        x.export_status = nullptr;
        return x;
    }();
    return &a;
}
#else
VIGIL_PLUGIN(FakeExporter)
#endif
