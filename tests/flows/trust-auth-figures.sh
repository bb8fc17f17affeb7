#!/bin/bash
# Figures 5+6 and Figures 1+2 with auth = true on every core, under both example lab
# configs: the clients register with their passwords, and every request they send after
# that comes over the flow they registered from (the association), so the figures run as
# FLOWS.md draws them, ladder for ladder, with each core asserting identities. The figure
# tests themselves run here on the changed configs.
. "$(dirname "$0")/../lib/flow.sh"
need python3

configs=()
for base in lab-icsi lab-user; do
  sed -e '/^auth = false /d' -e 's/^role = "core"$/&\nauth = true/' "$examples/$base.toml" \
    >"$t/$base-auth.toml"
  expect_eq "$(grep -c '^auth = true$' "$t/$base-auth.toml")" 3 "cores with auth in $base"
  configs+=("$t/$base-auth.toml")
done
bash "$flows/fig5-6-pager.sh" "${configs[@]}" || fail "Figures 5+6 with auth on every core"
bash "$flows/fig1-2-group-session.sh" "${configs[@]}" || fail "Figures 1+2 with auth on every core"
echo "OK trust-auth-figures"
