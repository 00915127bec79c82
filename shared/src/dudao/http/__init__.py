"""HTTP: the app factory every service uses, its middleware, routes and dependencies."""
