#!/bin/bash
# flood-storm.sh with a REGISTER storm (a new user each time): its ctest.
exec bash "$(dirname "$0")/flood-storm.sh" register
