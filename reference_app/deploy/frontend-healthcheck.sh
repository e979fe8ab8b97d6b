#!/bin/sh
# Healthy when the frontend answers GET /health with 200 on port 8080. Uses whichever client
# the nginx base image has: curl or wget (official images) or perl (Debian's perl-base).
url=http://127.0.0.1:8080/health
if command -v curl >/dev/null 2>&1; then
    exec curl -fsS -o /dev/null --max-time 2 "$url"
elif command -v wget >/dev/null 2>&1; then
    exec wget -q -O /dev/null -T 2 "$url"
elif command -v perl >/dev/null 2>&1; then
    exec perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:8080", Timeout => 2) or exit 1;
        print $s "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n";
        my $status = <$s>;
        exit(defined $status && $status =~ m{^HTTP/\S+ 200 } ? 0 : 1);'
fi
echo "no HTTP client (curl, wget or perl) in the image" >&2
exit 1
