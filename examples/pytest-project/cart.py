class Cart:
    def __init__(self):
        self._items = {}

    def add(self, name, price, quantity=1):
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        current_price, current_quantity = self._items.get(name, (price, 0))
        self._items[name] = (current_price, current_quantity + quantity)

    def total(self):
        return sum(price * quantity for price, quantity in self._items.values())

    def __len__(self):
        return sum(quantity for _, quantity in self._items.values())
