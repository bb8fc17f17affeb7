// cpm-send: send and receive CPM pager-mode messages (cpm-send(1)).
#include "cpm-send/send.hpp"

int main(int argc, char** argv)
{
  cpm::send::Options opt;
  CLI::App app{"Send and receive CPM pager-mode messages (SIP MESSAGE, CPIM, IMDN)", "cpm-send"};
  cpm::send::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::send::run(opt);
}
