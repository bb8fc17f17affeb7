// Named secrets in a node's SQLite file: stored once, read back after every restart.
#include "cpm/store/secret.hpp"

namespace cpm::store {

Result<std::string> keep_secret(Database& db, std::string_view name, std::string_view fresh)
{
  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS node_secret "
                       "(name TEXT PRIMARY KEY, value TEXT NOT NULL)");
      !r)
    return tl::unexpected(r.error());
  auto put = db.prepare("INSERT OR IGNORE INTO node_secret VALUES (?, ?)");
  if (!put)
    return tl::unexpected(put.error());
  if (auto r = put->bind(1, name).bind(2, fresh).run(); !r)
    return tl::unexpected(r.error());
  auto get = db.prepare("SELECT value FROM node_secret WHERE name = ?");
  if (!get)
    return tl::unexpected(get.error());
  get->bind(1, name);
  auto row = get->step();
  if (!row)
    return tl::unexpected(row.error());
  if (!*row)
    return fail(db.path() + ": no secret '" + std::string(name) + "' after storing it");
  return std::string(get->column_text(0));
}

} // namespace cpm::store
