"""Analytics read from the store and returned as typed results."""
