// The SMPP link: not built yet (the smpp layer lands separately); --pipe works meanwhile.
#include "smpp_link.hpp"

namespace cpm::iwf {

Result<std::unique_ptr<Link>> make_smpp_link(sip::Stack&, const SmppSettings&, const ua::Log&,
                                             LinkEvents)
{
  return fail("SMPP is not available in this build yet: use --pipe");
}

} // namespace cpm::iwf
