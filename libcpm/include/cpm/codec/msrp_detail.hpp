#pragma once
// Pieces of the pure MSRP part that msrp_conn.cpp shares (not a public interface).
#include <cstddef>
#include <string_view>

#include "cpm/codec/msrp.hpp"

namespace cpm::msrp::detail {

// The SEND frame of bytes [offset, offset + n) of `m` (Byte-Range with the total, flag '$'
// when it is the last piece), with a fresh tid that does not occur in its body.
Frame chunk_frame(const Message& m, std::string_view to_path, std::string_view from_path,
                  size_t offset, size_t n);

// The usual reason phrase of an MSRP status code ("OK", "Session Does Not Exist"...).
std::string_view reason(int status);

} // namespace cpm::msrp::detail
