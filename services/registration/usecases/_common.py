"""Private helpers shared by the registration use-case modules."""

def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]
