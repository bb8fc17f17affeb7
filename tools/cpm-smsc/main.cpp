// cpm-smsc: a small SMSC (SMPP 3.4 server) for labs and tests.
#include "smsc.hpp"

int main(int argc, char** argv)
{
  cpm::smsc::Options opt;
  CLI::App app{"A small SMSC: binds ESMEs over SMPP 3.4, prints submitted SMS, sends receipts "
               "and SMS from stdin",
               "cpm-smsc"};
  cpm::smsc::add_options(app, opt);
  if (auto rc = cpm::cli::parse(app, argc, argv))
    return *rc;
  return cpm::smsc::run(opt);
}
