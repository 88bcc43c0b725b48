"""nianbao: scheduler."""
