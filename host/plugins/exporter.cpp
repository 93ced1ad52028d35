// The calls an exporter's thread makes into an exporter plugin (ABI 1.3). They run beside the
// event loop, which may stop or restart the plugin meanwhile: export_mu_ keeps a call and a
// stop apart, and exporting_ says whether self_ may be used.
#include "plugins/registry.hpp"

#include <cstring>

namespace vigil {

bool Plugin::exports() const { return is_exporter(api()); }

vigil_result Plugin::export_events(const vigil_export_event* events, uint32_t count, uint32_t& accepted,
                                   std::string& error)
{
    accepted = 0;
    std::lock_guard lock(export_mu_);
    if (!exporting_) {
        error = "the exporter is not running";
        return VIGIL_ERR_UNSUPPORTED;
    }
    char err[512] = {};
    vigil_result r = api().export_events(self_, events, count, &accepted, err, sizeof err);
    if (accepted > count) // a plugin's bug must not make the host skip events it never saw
        accepted = count;
    if (r != VIGIL_OK)
        error = err[0] ? err : "(no message)";
    return r;
}

std::optional<vigil_export_status> Plugin::export_status()
{
    std::lock_guard lock(export_mu_);
    if (!exporting_)
        return std::nullopt;
    vigil_export_status st{};
    st.struct_size = sizeof st;
    api().export_status(self_, &st);
    st.detail[sizeof st.detail - 1] = '\0';
    return st;
}

} // namespace vigil
