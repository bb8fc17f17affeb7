// The location service: bindings in a hash map keyed by canonical AOR, written through to
// an optional SQLite file.
#include "cpm/core/location.hpp"

#include "cpm/base/text.hpp"
#include "cpm/grammar/header.hpp"
#include "cpm/grammar/uri.hpp"
#include "cpm/store/sqlite.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

namespace cpm::location {

std::string_view to_string(Reach r)
{
  switch (r) {
  case Reach::Connection:
    return "connection";
  case Reach::Outbound:
    return "outbound";
  case Reach::Received:
    return "received";
  case Reach::Contact:
    break;
  }
  return "contact";
}

Reach parse_reach(std::string_view s)
{
  for (auto r : {Reach::Connection, Reach::Outbound, Reach::Received})
    if (s == to_string(r))
      return r;
  return Reach::Contact;
}

std::string Binding::target() const
{
  if (reach == Reach::Contact || received.empty())
    return contact;
  return sip::to_sip_uri(received);
}

// ---------------------------------------------------------------------------------------
// RFC 3841 caller preferences, for the subset the toolkit uses.

namespace {

// One feature parameter: name (lower-case, without nothing stripped) and its values.
struct Feature {
  std::string name;
  std::vector<std::string> values; // lower-case, percent-decoded; {"true"} for a bare tag
};

// The values of a feature param: `"a,b"` -> {a, b}; `"<x>"` -> {x}; none -> {"true"}.
std::vector<std::string> feature_values(std::string_view v)
{
  v = text::trim(v);
  if (v.empty())
    return {"true"};
  v = sip::unquote(v).value_or(v);
  std::vector<std::string> out;
  if (!v.empty() && v.front() == '<' && v.back() == '>') {
    out.push_back(text::percent_decode(v.substr(1, v.size() - 2)));
    return out;
  }
  for (auto part : sip::split_header_list(v)) {
    if (part.front() == '!')
      continue; // negations are not supported: they neither match nor fail
    out.push_back(text::lower(text::percent_decode(part)));
  }
  return out;
}

// Parameters that are not feature tags (RFC 3261 Contact params, RFC 3841 directives,
// RFC 5626 / RFC 3327 registration params).
bool is_feature_param(std::string_view name)
{
  static constexpr std::string_view k_not_features[] = {
      "q",  "expires", "require", "explicit", "reg-id", "pub-gruu", "temp-gruu", "transport",
      "lr", "maddr",   "ttl",     "user",     "method", "received", "ob"};
  for (auto n : k_not_features)
    if (text::iequals(n, name))
      return false;
  return !name.empty();
}

struct Preference {
  std::vector<Feature> features;
  bool require = false;
  bool explicit_ = false;
};

// Feature params of a ";a;b=c" parameter list (the part before the first ';' is skipped).
std::vector<Feature> parse_features(std::string_view params, bool* require, bool* explicit_)
{
  std::vector<Feature> out;
  for (const auto& p : sip::split_params(params)) {
    auto name = text::lower(p.name);
    if (require && name == "require")
      *require = true;
    if (explicit_ && name == "explicit")
      *explicit_ = true;
    if (!is_feature_param(name))
      continue;
    auto values = feature_values(p.value);
    if (!values.empty())
      out.push_back(Feature{std::move(name), std::move(values)});
  }
  return out;
}

// The params of a Contact value after its URI: "<sip:x>;a;b" -> ";a;b"; "sip:x;a" -> ";a".
std::string_view contact_params(std::string_view s)
{
  auto na = sip::parse_name_addr(s, "Contact");
  return na ? na->params : std::string_view{};
}

// How a binding's features stand to one preference: -1 conflicts, else matched count.
// `have` is sorted by name (stably: the first of a repeated name counts), so that a
// request with thousands of feature params against a binding with thousands costs
// P·log H, not P·H (found by fuzz_route_uri: a 6 KiB Accept-Contact took milliseconds).
int score(const std::vector<Feature>& have, const Preference& pref)
{
  int matched = 0;
  for (const auto& want : pref.features) {
    auto it = std::lower_bound(have.begin(), have.end(), want.name,
                               [](const Feature& f, const std::string& n) { return f.name < n; });
    if (it == have.end() || it->name != want.name) {
      if (pref.require && pref.explicit_)
        return -1;
      continue;
    }
    bool any = std::any_of(want.values.begin(), want.values.end(), [&](const std::string& v) {
      return std::find(it->values.begin(), it->values.end(), v) != it->values.end();
    });
    if (any)
      ++matched;
    else if (pref.require)
      return -1;
  }
  return matched;
}

} // namespace

std::vector<Binding> select(const std::vector<Binding>& bindings,
                            const std::vector<std::string>& accept_contact)
{
  std::vector<Preference> prefs;
  for (const auto& value : accept_contact) {
    Preference p;
    // The value is "*;params" (RFC 3841 §10); anything before the first ';' is skipped.
    p.features = parse_features(value, &p.require, &p.explicit_);
    if (!p.features.empty())
      prefs.push_back(std::move(p));
  }
  std::vector<std::pair<int, const Binding*>> ranked;
  for (const auto& b : bindings) {
    // Feature tags may sit in `params` or, for a bare "sip:x;+g.tag" Contact, on the URI.
    std::string all(contact_params(b.contact));
    all += b.params;
    auto have = parse_features(";" + all, nullptr, nullptr);
    std::stable_sort(have.begin(), have.end(),
                     [](const Feature& x, const Feature& y) { return x.name < y.name; });
    int total = 0;
    bool dropped = false;
    for (const auto& p : prefs) {
      int s = score(have, p);
      if (s < 0) {
        dropped = true;
        break;
      }
      total += s;
    }
    if (!dropped)
      ranked.emplace_back(total, &b);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first)
      return a.first > b.first;
    return a.second->seq > b.second->seq;
  });
  std::vector<Binding> out;
  out.reserve(ranked.size());
  for (const auto& r : ranked)
    out.push_back(*r.second);
  return out;
}

// ---------------------------------------------------------------------------------------
// The store.

namespace {

// One binding in memory: its four strings packed in one allocation, NUL-separated.
struct Entry {
  std::unique_ptr<char[]> text; // contact \0 params \0 received \0 call_id \0
  uint16_t len[4] = {0, 0, 0, 0};
  uint32_t cseq = 0;
  Reach reach = Reach::Contact;
  int64_t expires_at = 0;
  uint64_t seq = 0;

  std::string_view field(int i) const
  {
    size_t off = 0;
    for (int k = 0; k < i; ++k)
      off += len[k] + 1u;
    return {text.get() + off, len[i]};
  }
  std::string_view contact() const { return field(0); }
};

Entry pack(const Binding& b)
{
  Entry e;
  const std::string* f[4] = {&b.contact, &b.params, &b.received, &b.call_id};
  size_t total = 0;
  for (int i = 0; i < 4; ++i) {
    // A field longer than 64 KiB is truncated: no SIP header value of ours gets near it.
    e.len[i] = static_cast<uint16_t>(std::min<size_t>(f[i]->size(), 0xffff));
    total += e.len[i] + 1u;
  }
  e.text = std::make_unique<char[]>(total);
  char* p = e.text.get();
  for (int i = 0; i < 4; ++i) {
    std::memcpy(p, f[i]->data(), e.len[i]);
    p[e.len[i]] = '\0';
    p += e.len[i] + 1;
  }
  e.cseq = b.cseq;
  e.reach = b.reach;
  e.expires_at = b.expires_at;
  e.seq = b.seq;
  return e;
}

Binding unpack(const std::string& aor, const Entry& e)
{
  Binding b;
  b.aor = aor;
  b.contact = std::string(e.field(0));
  b.params = std::string(e.field(1));
  b.received = std::string(e.field(2));
  b.call_id = std::string(e.field(3));
  b.cseq = e.cseq;
  b.reach = e.reach;
  b.expires_at = e.expires_at;
  b.seq = e.seq;
  return b;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The bindings table and the statements that keep it in step with memory.
struct File {
  store::Database db;
  store::Statement put, del_one, del_aor, del_expired;
};

// Open `path`, create the table, drop what expired by `now` and read the rest in `loaded`.
Result<File> open_file(const std::string& path, int64_t now, std::vector<Binding>& loaded)
{
  auto db = store::Database::open(path);
  if (!db)
    return tl::unexpected(db.error());
  auto r = db->exec("CREATE TABLE IF NOT EXISTS bindings ("
                    " aor TEXT NOT NULL, contact TEXT NOT NULL, params TEXT NOT NULL,"
                    " received TEXT NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
                    " expires_at INTEGER NOT NULL, seq INTEGER NOT NULL,"
                    " reach TEXT NOT NULL DEFAULT 'contact',"
                    " PRIMARY KEY (aor, contact));");
  if (!r)
    return tl::unexpected(r.error());
  // A file written before bindings knew their reach gets the column (its bindings are
  // reached at their Contact, as RFC 3261 says).
  auto has_reach = db->prepare("SELECT 1 FROM pragma_table_info('bindings') WHERE name = 'reach'");
  if (!has_reach)
    return tl::unexpected(has_reach.error());
  auto found = has_reach->step();
  if (!found)
    return tl::unexpected(found.error());
  has_reach->reset();
  if (!*found)
    if (auto a = db->exec("ALTER TABLE bindings ADD COLUMN reach TEXT NOT NULL DEFAULT 'contact'");
        !a)
      return tl::unexpected(a.error());
  auto del_expired = db->prepare("DELETE FROM bindings WHERE expires_at <= ?");
  if (!del_expired)
    return tl::unexpected(del_expired.error());
  if (auto d = del_expired->bind(1, now).run(); !d)
    return tl::unexpected(d.error());
  auto load = db->prepare("SELECT aor, contact, params, received, call_id, cseq, expires_at,"
                          " seq, reach FROM bindings ORDER BY seq");
  if (!load)
    return tl::unexpected(load.error());
  Result<bool> row;
  while ((row = load->step()) && *row) {
    Binding b;
    b.aor = std::string(load->column_text(0));
    b.contact = std::string(load->column_text(1));
    b.params = std::string(load->column_text(2));
    b.received = std::string(load->column_text(3));
    b.call_id = std::string(load->column_text(4));
    b.cseq = static_cast<uint32_t>(load->column_int(5));
    b.expires_at = load->column_int(6);
    b.seq = static_cast<uint64_t>(load->column_int(7));
    b.reach = parse_reach(load->column_text(8));
    loaded.push_back(std::move(b));
  }
  if (!row)
    return tl::unexpected(row.error());
  auto put = db->prepare("INSERT OR REPLACE INTO bindings (aor, contact, params, received,"
                         " call_id, cseq, expires_at, seq, reach)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto del_one = db->prepare("DELETE FROM bindings WHERE aor = ? AND contact = ?");
  auto del_aor = db->prepare("DELETE FROM bindings WHERE aor = ?");
  for (auto* s : {&put, &del_one, &del_aor})
    if (!*s)
      return tl::unexpected(s->error());
  return File{std::move(*db), std::move(*put), std::move(*del_one), std::move(*del_aor),
              std::move(*del_expired)};
}

} // namespace

struct Store::Impl {
  std::unordered_map<std::string, std::vector<Entry>, StringHash, std::equal_to<>> map;
  size_t count = 0;
  uint64_t next_seq = 1;
  std::optional<File> file;
  std::string error;

  // Run a write on the file (one autocommitted statement), remembering a failure.
  Result<void> run(store::Statement& s)
  {
    auto r = s.run();
    if (r)
      error.clear();
    else
      error = r.error().message;
    return r;
  }

  void insert(const std::string& aor, const Binding& b)
  {
    auto it = map.find(std::string_view(aor));
    if (it == map.end())
      it = map.emplace(aor, std::vector<Entry>{}).first;
    auto& list = it->second;
    auto same = std::find_if(list.begin(), list.end(),
                             [&](const Entry& e) { return e.contact() == b.contact; });
    if (same != list.end()) {
      *same = pack(b);
    } else {
      list.push_back(pack(b));
      ++count;
    }
  }
};

Store::Store() : m(std::make_unique<Impl>()) {}
Store::~Store() = default;

Result<void> Store::open(const std::string& db_path, int64_t now)
{
  std::vector<Binding> loaded;
  auto file = open_file(db_path, now, loaded);
  if (!file)
    return tl::unexpected(file.error());
  // Replace any previous file; bindings already in memory stay in memory.
  Impl& s = *m;
  s.file = std::move(*file);
  for (const auto& b : loaded) {
    auto aor = sip::canonical_aor(b.aor);
    if (aor.empty())
      continue;
    s.insert(aor, b);
    s.next_seq = std::max(s.next_seq, b.seq + 1);
  }
  return {};
}

Result<void> Store::upsert(Binding b)
{
  Impl& s = *m;
  b.aor = sip::canonical_aor(b.aor);
  if (b.aor.empty() || b.contact.empty())
    return {};
  if (b.seq == 0)
    b.seq = s.next_seq;
  s.next_seq = std::max(s.next_seq, b.seq + 1);
  s.insert(b.aor, b);
  if (s.file) {
    auto& st = s.file->put;
    st.bind(1, b.aor).bind(2, b.contact).bind(3, b.params).bind(4, b.received);
    st.bind(5, b.call_id).bind(6, int64_t{b.cseq}).bind(7, b.expires_at);
    st.bind(8, static_cast<int64_t>(b.seq)).bind(9, to_string(b.reach));
    return s.run(st);
  }
  return {};
}

Result<void> Store::remove(std::string_view aor, std::string_view contact)
{
  Impl& s = *m;
  auto key = sip::canonical_aor(aor);
  auto it = s.map.find(std::string_view(key));
  if (it != s.map.end()) {
    auto& list = it->second;
    auto before = list.size();
    std::erase_if(list, [&](const Entry& e) { return e.contact() == contact; });
    s.count -= before - list.size();
    if (list.empty())
      s.map.erase(it);
  }
  if (s.file)
    return s.run(s.file->del_one.bind(1, key).bind(2, contact));
  return {};
}

Result<void> Store::remove_all(std::string_view aor)
{
  Impl& s = *m;
  auto key = sip::canonical_aor(aor);
  auto it = s.map.find(std::string_view(key));
  if (it != s.map.end()) {
    s.count -= it->second.size();
    s.map.erase(it);
  }
  if (s.file)
    return s.run(s.file->del_aor.bind(1, key));
  return {};
}

std::vector<Binding> Store::lookup(std::string_view aor, int64_t now) const
{
  std::vector<Binding> out;
  auto key = sip::canonical_aor(aor);
  auto it = m->map.find(std::string_view(key));
  if (it == m->map.end())
    return out;
  for (const auto& e : it->second)
    if (e.expires_at > now)
      out.push_back(unpack(it->first, e));
  std::sort(out.begin(), out.end(),
            [](const Binding& a, const Binding& b) { return a.seq > b.seq; });
  return out;
}

size_t Store::purge(int64_t now)
{
  Impl& s = *m;
  size_t dropped = 0;
  for (auto it = s.map.begin(); it != s.map.end();) {
    dropped += std::erase_if(it->second, [&](const Entry& e) { return e.expires_at <= now; });
    if (it->second.empty())
      it = s.map.erase(it);
    else
      ++it;
  }
  s.count -= dropped;
  if (s.file)
    (void)s.run(s.file->del_expired.bind(1, now)); // last_error() keeps a failure
  return dropped;
}

size_t Store::size() const
{
  return m->count;
}

const std::string& Store::last_error() const
{
  return m->error;
}

} // namespace cpm::location
