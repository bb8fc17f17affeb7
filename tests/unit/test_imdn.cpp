#include <doctest/doctest.h>

#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>

#include "cpm/codec/imdn.hpp"

TEST_SUITE_BEGIN("imdn");

TEST_CASE("imdn::decode parses the conformance display notification")
{
  std::ifstream f(std::string(CPM_DATA_DIR) +
                  "/examples/imdn/rfc5438-display-notification.rcsjta.xml");
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  auto n = cpm::imdn::decode(ss.str());
  REQUIRE(n);
  CHECK(n->message_id == "34jk324j");
  CHECK(n->datetime == "2008-04-04T12:16:49-05:00");
  CHECK(n->kind == cpm::imdn::Kind::Display);
  CHECK(n->status == cpm::imdn::Status::Displayed);
  CHECK(cpm::imdn::positive(n->status));
}

TEST_CASE("imdn::encode and decode round trip")
{
  using cpm::imdn::Kind;
  using cpm::imdn::Status;
  for (auto [k, s] :
       {std::pair{Kind::Delivery, Status::Delivered}, std::pair{Kind::Delivery, Status::Failed},
        std::pair{Kind::Delivery, Status::Forbidden}, std::pair{Kind::Display, Status::Displayed},
        std::pair{Kind::Display, Status::Error}, std::pair{Kind::Processing, Status::Stored}}) {
    cpm::imdn::Notification n;
    n.message_id = "Xy12ab34";
    n.datetime = "2024-01-01T00:00:00Z";
    n.recipient_uri = "sip:bob@b.example";
    n.kind = k;
    n.status = s;
    auto back = cpm::imdn::decode(cpm::imdn::encode(n));
    REQUIRE(back);
    CHECK(back->message_id == n.message_id);
    CHECK(back->datetime == n.datetime);
    CHECK(back->recipient_uri == n.recipient_uri);
    CHECK(back->kind == k);
    CHECK(back->status == s);
  }
}

namespace {

// The document as pugixml writes it: what encode() wrote before it wrote directly.
std::string pugixml_encode(const cpm::imdn::Notification& n)
{
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("imdn");
  root.append_attribute("xmlns") = std::string(cpm::imdn::k_xml_ns).c_str();
  root.append_child("message-id").text() = n.message_id.c_str();
  root.append_child("datetime").text() = n.datetime.c_str();
  if (!n.recipient_uri.empty())
    root.append_child("recipient-uri").text() = n.recipient_uri.c_str();
  if (!n.original_recipient_uri.empty())
    root.append_child("original-recipient-uri").text() = n.original_recipient_uri.c_str();
  std::string kind = std::string(cpm::imdn::to_string(n.kind)) + "-notification";
  root.append_child(kind.c_str())
      .append_child("status")
      .append_child(std::string(cpm::imdn::to_string(n.status)).c_str());
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

} // namespace

TEST_CASE("imdn::encode writes the bytes pugixml writes, escapes included")
{
  using cpm::imdn::Kind;
  using cpm::imdn::Status;
  std::string odd = "a&b<c>d\"e'f\tg\rh\ni";
  odd += '\x01';
  odd += '\x1f';
  odd += "\xc3\xa9 ]]> &amp;";
  std::string nul_cut = "before";
  nul_cut += '\0';
  nul_cut += "after";
  for (auto [k, s] :
       {std::pair{Kind::Delivery, Status::Delivered}, std::pair{Kind::Delivery, Status::Failed},
        std::pair{Kind::Display, Status::Displayed}, std::pair{Kind::Processing, Status::Stored},
        std::pair{Kind::Processing, Status::Processed}}) {
    for (const auto& text : {std::string("Xy12ab34"), odd, nul_cut, std::string()}) {
      cpm::imdn::Notification n;
      n.message_id = text;
      n.datetime = "2024-01-01T00:00:00Z" + text;
      n.recipient_uri = text.empty() ? "" : "sip:" + text + "@b.example";
      n.original_recipient_uri = text == odd ? "tel:+1<2>" : "";
      n.kind = k;
      n.status = s;
      CAPTURE(text);
      CHECK(cpm::imdn::encode(n) == pugixml_encode(n));
    }
  }
}

TEST_CASE("imdn::decode accepts a prefixed namespace")
{
  auto n = cpm::imdn::decode(
      "<i:imdn xmlns:i=\"urn:ietf:params:xml:ns:imdn\"><i:message-id>abc12345</i:message-id>"
      "<i:datetime>x</i:datetime><i:delivery-notification><i:status><i:failed/></i:status>"
      "</i:delivery-notification></i:imdn>");
  REQUIRE(n);
  CHECK(n->status == cpm::imdn::Status::Failed);
  CHECK_FALSE(cpm::imdn::positive(n->status));
}

TEST_CASE("imdn::decode rejects malformed documents")
{
  auto doc = [](const std::string& inner, const std::string& ns = "urn:ietf:params:xml:ns:imdn") {
    return "<imdn xmlns=\"" + ns + "\">" + inner + "</imdn>";
  };
  const std::string id = "<message-id>abc12345</message-id><datetime>t</datetime>";
  const std::string ok = "<delivery-notification><status><delivered/></status>"
                         "</delivery-notification>";
  REQUIRE(cpm::imdn::decode(doc(id + ok)));
  SUBCASE("not XML")
  {
    CHECK_FALSE(cpm::imdn::decode("<imdn><message-id>"));
  }
  SUBCASE("empty")
  {
    CHECK_FALSE(cpm::imdn::decode(""));
  }
  SUBCASE("wrong namespace")
  {
    CHECK_FALSE(cpm::imdn::decode(doc(id + ok, "urn:x")));
  }
  SUBCASE("wrong root")
  {
    CHECK_FALSE(cpm::imdn::decode("<foo xmlns=\"urn:ietf:params:xml:ns:imdn\"/>"));
  }
  SUBCASE("missing message-id")
  {
    CHECK_FALSE(cpm::imdn::decode(doc("<datetime>t</datetime>" + ok)));
  }
  SUBCASE("empty message-id")
  {
    CHECK_FALSE(cpm::imdn::decode(doc("<message-id> </message-id><datetime>t</datetime>" + ok)));
  }
  SUBCASE("missing datetime")
  {
    CHECK_FALSE(cpm::imdn::decode(doc("<message-id>abc12345</message-id>" + ok)));
  }
  SUBCASE("no notification")
  {
    CHECK_FALSE(cpm::imdn::decode(doc(id)));
  }
  SUBCASE("two notifications")
  {
    CHECK_FALSE(cpm::imdn::decode(doc(id + ok + ok)));
  }
  SUBCASE("status not allowed for the kind")
  {
    CHECK_FALSE(cpm::imdn::decode(
        doc(id + "<display-notification><status><delivered/></status></display-notification>")));
  }
  SUBCASE("unknown status")
  {
    CHECK_FALSE(cpm::imdn::decode(
        doc(id + "<delivery-notification><status><lost/></status></delivery-notification>")));
  }
  SUBCASE("two statuses")
  {
    CHECK_FALSE(cpm::imdn::decode(doc(
        id +
        "<delivery-notification><status><delivered/><failed/></status></delivery-notification>")));
  }
  SUBCASE("unknown element")
  {
    CHECK_FALSE(cpm::imdn::decode(doc(id + ok + "<bogus/>")));
  }
}

TEST_CASE("imdn::parse_requested and format_requested")
{
  auto r = cpm::imdn::parse_requested("positive-delivery, Display");
  REQUIRE(r);
  CHECK(r->positive_delivery);
  CHECK_FALSE(r->negative_delivery);
  CHECK(r->display);
  CHECK(cpm::imdn::format_requested(*r) == "positive-delivery, display");
  CHECK_FALSE(cpm::imdn::parse_requested("positive-delivery, bogus"));
  CHECK_FALSE(cpm::imdn::parse_requested(""));
}

TEST_CASE("imdn::parse_notify_option")
{
  auto r = cpm::imdn::parse_notify_option("delivery,display");
  REQUIRE(r);
  CHECK(r->positive_delivery);
  CHECK(r->negative_delivery);
  CHECK(r->display);
  auto d = cpm::imdn::parse_notify_option("display");
  REQUIRE(d);
  CHECK_FALSE(d->positive_delivery);
  CHECK_FALSE(cpm::imdn::parse_notify_option("delivered"));
  CHECK_FALSE(cpm::imdn::parse_notify_option("delivery,"));
}

TEST_CASE("imdn::make_message_id is random letters and digits")
{
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = cpm::imdn::make_message_id();
    CHECK(id.size() >= 8);
    for (char c : id)
      CHECK(std::isalnum(static_cast<unsigned char>(c)));
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}

TEST_SUITE_END();
