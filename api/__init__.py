"""The JSON API: one NinjaAPI (api.ninja) mounted under /api/, its error shape, auth and shared schemas."""
