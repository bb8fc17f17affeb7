// cpm-invite: CPM Sessions (INVITE, MSRP chat over stdin/stdout) (cpm-invite(1)).
#include "cpm-invite/invite.hpp"

int main(int argc, char** argv)
{
  cpm::invite::Options opt;
  CLI::App app{"Invite to or answer CPM Sessions and chat over MSRP (SIP INVITE, SDP, MSRP, CPIM)",
               "cpm-invite"};
  cpm::invite::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::invite::run(opt);
}
