# shellcheck shell=bash
# Helpers about this Debian machine, sourced by scripts/bootstrap.sh and
# scripts/image.sh.

# First non-security Debian mirror URI configured in /etc/apt (one-line and
# deb822 formats), so that nothing here names a mirror host itself.
debian_mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | sed -E 's/\[[^]]*\]//' \
    | awk '$1 == "deb" || $1 == "URIs:" { print $2 }' \
    | grep -v -e security -e backports | head -n1 || true
}

# The Debian security mirror URI configured in /etc/apt, if any.
debian_security_mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | sed -E 's/\[[^]]*\]//' \
    | awk '$1 == "deb" || $1 == "URIs:" { print $2 }' \
    | grep -e security | head -n1 || true
}
