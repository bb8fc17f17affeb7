#pragma once
// CPM service identifiers and feature tags (ICSI / IARI), Accept-Contact and
// P-Preferred-Service handling: the "CPM enabler usage indication".
#include <string>
#include <string_view>
#include <vector>

namespace cpm::service {

// The CPM ICSIs (OMA CPM / 3GPP TS 24.229 style service identifiers).
inline constexpr std::string_view k_icsi_msg = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg";
inline constexpr std::string_view k_icsi_session =
    "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session";

// The Accept-Contact value indicating `icsi`: "*;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A...\"".
std::string accept_contact(std::string_view icsi);
// The Contact feature-tag parameter for registrations: ";+g.3gpp.icsi-ref=\"...\"".
std::string contact_feature(std::string_view icsi);
// Percent-encode / decode an ICSI as it appears in a feature tag (':' -> %3A).
std::string encode_icsi(std::string_view icsi);
std::string decode_icsi(std::string_view s);

// The ICSIs a request indicates, from Accept-Contact and P-Preferred-Service values.
std::vector<std::string> indicated(const std::vector<std::string>& accept_contact,
                                   const std::vector<std::string>& preferred_service);
// True if any CPM ICSI is indicated.
bool indicates_cpm(const std::vector<std::string>& accept_contact,
                   const std::vector<std::string>& preferred_service);

} // namespace cpm::service
