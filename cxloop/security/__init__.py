"""Site-wide protections: response headers (CSP, Permissions-Policy, caching) and the sign-in
lockout's rules and notices (docs/decisions/008-headers.md)."""
