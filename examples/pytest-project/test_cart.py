import pytest

from cart import Cart


def test_an_empty_cart_costs_nothing():
    assert Cart().total() == 0


def test_adding_the_same_item_twice_counts_it_twice():
    cart = Cart()
    cart.add("apple", 0.5)
    cart.add("apple", 0.5, quantity=2)
    assert len(cart) == 3
    assert cart.total() == pytest.approx(1.5)


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_refused(quantity):
    with pytest.raises(ValueError):
        Cart().add("pear", 1.0, quantity=quantity)
