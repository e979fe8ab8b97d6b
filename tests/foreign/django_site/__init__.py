"""A Django 5.2 project as ``startproject`` makes it, with DEBUG off and the defaults of
SecurityMiddleware: no HSTS, no HTTPS redirect, no CSP, no rate limiter; the admin's login
page sets ``csrftoken`` without Secure or HttpOnly; a forged Host is answered 400."""
