// The SMPP link: each SMS as submit_sm PDUs (GSM 7-bit or UCS-2, concatenated with a UDH
// when long), an SME delivery acknowledgement as a submit_sm with that esm_class, and
// deliver_sm read as receipts or as SMS (their parts given to the role, which reassembles
// them durably).
#include "smpp_link.hpp"

#include <fmt/format.h>
#include <functional>
#include <map>

#include "cpm/rt/smpp_esme.hpp"
#include "cpm/smpp/receipt.hpp"
#include "cpm/sms/coding.hpp"
#include "cpm/sms/segment.hpp"

namespace cpm::iwf {

namespace {

// An E.164 number as an SMPP address: international, E.164, digits without '+'.
smpp::Address address_of(const std::string& number)
{
  smpp::Address a;
  a.ton = smpp::k_ton_international;
  a.npi = smpp::k_npi_e164;
  a.addr = number.size() > 1 && number[0] == '+' ? number.substr(1) : number;
  return a;
}

// An SMPP address as a number: "+" and the digits for an international one.
std::string number_of(const smpp::Address& a)
{
  if (a.ton == smpp::k_ton_international && !a.addr.empty() && a.addr[0] != '+')
    return "+" + a.addr;
  return a.addr;
}

// SMPP 3.4 §7.1.1 relative time: "YYMMDDhhmmss000R".
std::string relative_validity(int seconds)
{
  int d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  return fmt::format("0000{:02}{:02}{:02}{:02}000R", d, h, m, s);
}

// Statuses another attempt later may overcome.
bool transient(uint32_t status)
{
  return status == smpp::k_esme_rsyserr || status == smpp::k_esme_rx_t_appn ||
         status == smpp::k_esme_rthrottled || status == smpp::k_esme_rmsgqful ||
         status == smpp::k_esme_runknownerr || status == smpp::k_esme_rdeliveryfailure ||
         status == smpp::k_esme_rsubmitfail;
}

class SmppLink final : public Link {
public:
  SmppLink(const SmppSettings& s, const ua::Log& log, LinkEvents ev)
      : m_settings(s), m_log(log), m_ev(std::move(ev))
  {
  }

  Result<void> create(trace::Writer* trace, const std::string& local_host, struct ::dnsc* dnsc)
  {
    auto colon = m_settings.address.rfind(':');
    smpp::Esme::Options o;
    o.host = m_settings.address.substr(0, colon);
    o.port = uint16_t(std::stoi(m_settings.address.substr(colon + 1)));
    o.local_host = local_host;
    o.dnsc = dnsc;
    o.system_id = m_settings.system_id;
    o.password = m_settings.password;
    o.system_type = m_settings.system_type;
    o.window = m_settings.window;
    o.enquire_link_ms = m_settings.enquire_link_ms;
    o.reconnect_ms = m_settings.reconnect_ms;
    o.trace = trace;
    o.diag = [this](const std::string& l) { m_log.diag(l); };
    smpp::Esme::Callbacks cb;
    cb.on_bound = [this] { ready(); };
    cb.on_room = [this] { ready(); };
    cb.on_response = [this](uint64_t tag, const smpp::Pdu* r) { response(tag, r); };
    cb.on_deliver = [this](const smpp::Pdu& p) { return deliver(p); };
    auto e = smpp::Esme::create(std::move(o), std::move(cb));
    if (!e)
      return tl::unexpected(e.error());
    m_esme = std::move(*e);
    return {};
  }

  void start() override { m_esme->start(); }
  size_t room() const override { return m_esme->room(); }
  void stop() override { m_esme->stop(); }

  void submit(const iw::OutSms& sms) override
  {
    std::vector<smpp::Pdu> pdus;
    if (sms.kind == iw::OutSms::Kind::Ack) {
      smpp::ReceiptText rt;
      rt.id = sms.ref;
      rt.stat = sms.state;
      rt.err = sms.state == "DELIVRD" ? "000" : "001";
      const auto now = std::time(nullptr);
      rt.submit_date = smpp::receipt_date(now);
      rt.done_date = rt.submit_date;
      smpp::Pdu p;
      p.command = smpp::Command::submit_sm;
      p.source = address_of(sms.src);
      p.destination = address_of(sms.dst);
      p.esm_class = smpp::k_esm_delivery_ack;
      p.short_message = smpp::format_receipt_text(rt);
      if (!sms.ref.empty())
        p.set_cstring(smpp::k_tlv_receipted_message_id, sms.ref);
      p.set_u8(smpp::k_tlv_message_state,
               uint8_t(sms.state == "DELIVRD" ? smpp::MessageState::delivered
                                              : smpp::MessageState::undeliverable));
      pdus.push_back(std::move(p));
    } else {
      auto seg = sms::segment(sms.text, uint8_t(sms.id & 0xFF));
      if (!seg) {
        m_ev.refused(sms.id, seg.error().message, true);
        return;
      }
      for (const auto& part : seg->parts) {
        smpp::Pdu p;
        p.command = smpp::Command::submit_sm;
        p.source = address_of(sms.src);
        p.destination = address_of(sms.dst);
        p.esm_class = part.concat ? smpp::k_esm_udhi : 0;
        p.data_coding = sms::data_coding_of(seg->coding);
        p.registered_delivery = sms.report ? smpp::k_receipt_final : smpp::k_receipt_none;
        if (m_settings.validity_s > 0)
          p.validity_period = relative_validity(m_settings.validity_s);
        auto octets = sms::short_message(part);
        p.short_message.assign(octets.begin(), octets.end());
        pdus.push_back(std::move(p));
      }
    }
    Pending& pend = m_pending[sms.id];
    pend.ids.assign(pdus.size(), "");
    pend.open = pdus.size();
    for (size_t i = 0; i < pdus.size(); ++i) {
      uint64_t tag = (uint64_t(sms.id) << 8) | i;
      if (auto r = m_esme->send(std::move(pdus[i]), tag); !r) {
        m_pending.erase(sms.id);
        m_ev.returned(sms.id);
        return;
      }
    }
  }

private:
  struct Pending {
    std::vector<std::string> ids;
    size_t open = 0;
    bool failed = false;
    bool lost = false;
    std::string why;
    bool final = false;
  };

  void ready()
  {
    if (m_ev.ready)
      m_ev.ready();
  }

  void response(uint64_t tag, const smpp::Pdu* r)
  {
    const int64_t id = int64_t(tag >> 8);
    const size_t part = size_t(tag & 0xFF);
    auto it = m_pending.find(id);
    if (it == m_pending.end())
      return;
    Pending& p = it->second;
    if (!r) {
      p.lost = true;
    } else if (r->status != smpp::k_esme_rok || r->command == smpp::Command::generic_nack) {
      if (!p.failed) {
        p.failed = true;
        p.why = fmt::format("{}", smpp::status_name(r->status));
        p.final = !transient(r->status);
      }
    } else if (part < p.ids.size()) {
      p.ids[part] = r->message_id;
    }
    if (--p.open > 0)
      return;
    Pending done = std::move(p);
    m_pending.erase(it);
    if (done.failed)
      m_ev.refused(id, done.why, done.final);
    else if (done.lost)
      m_ev.returned(id);
    else
      m_ev.submitted(id, std::move(done.ids));
  }

  uint32_t deliver(const smpp::Pdu& p)
  {
    if (smpp::is_receipt(p)) {
      auto rc = smpp::read_receipt(p);
      if (!rc) {
        m_log.diag(fmt::format("receipt unreadable: {}", rc.error().message));
        return smpp::k_esme_rx_p_appn;
      }
      auto st = iw::state_of(int(rc->state));
      if (!st)
        return smpp::k_esme_rx_p_appn;
      bool acked = false;
      m_ev.receipt(rc->message_id, *st, [&acked] { acked = true; });
      return acked ? smpp::k_esme_rok : smpp::k_esme_rx_t_appn;
    }
    auto coding = sms::coding_of(p.data_coding);
    if (!coding) {
      m_log.diag(fmt::format("SMS from {}: {}", p.source.addr, coding.error().message));
      return smpp::k_esme_rx_p_appn;
    }
    std::string_view raw = p.short_message;
    if (raw.empty())
      if (const smpp::Tlv* t = p.find(smpp::k_tlv_message_payload))
        raw = t->value;
    auto ud =
        sms::parse_user_data(std::span(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()),
                             (p.esm_class & smpp::k_esm_udhi) != 0);
    if (!ud) {
      m_log.diag(fmt::format("SMS from {}: {}", p.source.addr, ud.error().message));
      return smpp::k_esme_rx_p_appn;
    }
    // A part alone may end in half an escape or a surrogate pair: it is decoded with the
    // others once all have come (the store's reassembly); its text here is for the key.
    auto text = sms::decode_text(*coding, ud->payload);
    if (!text && !ud->concat) {
      m_log.diag(fmt::format("SMS from {}: {}", p.source.addr, text.error().message));
      return smpp::k_esme_rx_p_appn;
    }
    iw::InSms in;
    in.src = number_of(p.source);
    in.dst = number_of(p.destination);
    in.text = text ? std::move(*text) : std::string();
    // SMPP 3.4 §5.2.17: in a deliver_sm the SMS sender's wish for an acknowledgement is an
    // SME acknowledgement request (bits 3-2: delivery 0x04, manual/user 0x08); some SMSCs
    // set the receipt bits (1-0) instead. Either asks for a status report.
    in.report = (p.registered_delivery & 0x0F) != 0;
    if (ud->concat) {
      in.ref = ud->concat->reference;
      in.total = ud->concat->total;
      in.seq = ud->concat->sequence;
      in.coding = int(*coding);
      in.payload.assign(ud->payload.begin(), ud->payload.end());
      if (!text)
        for (uint8_t c : ud->payload)
          in.text += fmt::format("{:02x}", c);
    }
    auto umr = p.u16(smpp::k_tlv_user_message_reference);
    in.smsc_id = umr ? std::to_string(*umr) : "";
    in.key = fmt::format("smpp {} {} {} {} {} {} {}", in.src, in.dst, umr ? int(*umr) : -1, in.ref,
                         in.total, in.seq, in.text);
    Ack result = Ack::Failed;
    m_ev.incoming(std::move(in), [&result](Ack a) { result = a; });
    switch (result) {
    case Ack::Ok:
      return smpp::k_esme_rok;
    case Ack::NoUser:
      return smpp::k_esme_rinvdstadr;
    default:
      return smpp::k_esme_rx_t_appn;
    }
  }

  SmppSettings m_settings;
  ua::Log m_log;
  LinkEvents m_ev;
  std::unique_ptr<smpp::Esme> m_esme;
  std::map<int64_t, Pending> m_pending;
};

} // namespace

Result<std::unique_ptr<Link>> make_smpp_link(sip::Stack& stack, const SmppSettings& s,
                                             const ua::Log& log, LinkEvents events)
{
  auto link = std::make_unique<SmppLink>(s, log, std::move(events));
  std::string local;
  if (!stack.bound().empty()) {
    auto hop = sip::parse_listen(stack.bound().front());
    if (hop)
      local = hop->host;
  }
  if (auto r = link->create(stack.tracer(), local, stack.dnsc()); !r)
    return tl::unexpected(r.error());
  return std::unique_ptr<Link>(std::move(link));
}

} // namespace cpm::iwf
