"""Text profiles: fields rendered from hand-written attributes, training interactions only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrec.data.dataset import Dataset
from graphrec.graph.store import INTERACTS, Graph
from graphrec.text import (
    age_band,
    build_profiles,
    favourite_categories,
    item_profiles,
    top_items,
    user_profiles,
)

GENRES = ["Action", "Comedy", "Drama"]


def movie_data() -> Dataset:
    """2 users, 4 movies; movie 3 ('Secret Film') appears only in the test split."""
    train_u = np.array([0, 0, 0, 1, 1])
    train_i = np.array([0, 1, 2, 1, 2])
    rating = np.array([3.0, 5.0, 4.0, 2.0, 5.0], np.float32)
    ds = Dataset.from_pairs(
        "tiny", (train_u, train_i), (np.array([0, 1]), np.array([3, 3])), train_weight=rating,
        user_ids=np.arange(2), item_ids=np.arange(4),
    )
    g = ds.train
    g.node_attrs["item"].update({
        "title": np.array(["Heat (1995)", "Clerks (1994)", "Fargo (1996)", "Secret Film (1999)"]),
        "year": np.array([1995, 1994, 1996, -1]),
        "genres": np.array([[1, 0, 1], [0, 1, 0], [0, 1, 1], [1, 1, 1]], np.int8),
        "genre_names": GENRES,
        "imdb_url": np.array(["u0", "u1", "u2", "u3"]),
    })
    g.node_attrs["user"].update({
        "age": np.array([30, 17]), "gender": np.array(["F", "M"]),
        "occupation": np.array(["writer", "student"]), "zip": np.array(["12345", "99999"]),
    })
    return ds


def test_age_bands() -> None:
    assert age_band([7, 17, 18, 24, 25, 34, 35, 44, 45, 49, 50, 55, 56, 90, -1]).tolist() == [
        "under 18", "under 18", "18-24", "18-24", "25-34", "25-34", "35-44", "35-44", "45-49", "45-49",
        "50-55", "50-55", "56 or older", "56 or older", "",
    ]
    assert age_band(np.array([30.0, np.nan])).tolist() == ["25-34", ""]  # a missing age is no band, not "56 or older"
    with pytest.raises(TypeError, match="age"):
        age_band(np.array(["x"]))


def test_missing_titles_are_left_out_never_printed_as_none() -> None:
    ds = movie_data()
    g = ds.train
    g.node_attrs["item"]["title"] = np.array(["", "Clerks (1994)", None, "Secret Film (1999)"], dtype=object)
    users = user_profiles(g)
    # user 1 rates Fargo (no title) 5 and Clerks 2: the section stays, with the titles there are
    assert "Top-rated: Clerks (1994)." in users[1] and "None" not in users[1]
    items = item_profiles(g)
    assert items[0] == "Year: 1995. Genres: Action, Drama." and "None" not in " ".join(items)


def test_item_profiles_hold_title_year_genres() -> None:
    items = item_profiles(movie_data().train)
    assert items[0] == "Title: Heat (1995). Year: 1995. Genres: Action, Drama."
    assert items[1] == "Title: Clerks (1994). Year: 1994. Genres: Comedy."
    assert items[3] == "Title: Secret Film (1999). Genres: Action, Comedy, Drama."  # year -1: no year field
    assert not any("u0" in t for t in items)  # urls are not rendered


def test_user_profiles_hold_demographics_genres_and_top_titles_by_rating() -> None:
    users = user_profiles(movie_data().train, top_genres=2, top_titles=2)
    # user 0 rated Clerks 5, Fargo 4, Heat 3; genre scores: Comedy 5+4, Drama 3+4, Action 3
    assert users[0] == (
        "User: 25-34 years old, female, occupation writer. Favourite genres: Comedy, Drama. "
        "Top-rated: Clerks (1994); Fargo (1996)."
    )
    # user 1: Fargo 5, Clerks 2 -> Comedy 7, Drama 5
    assert users[1] == (
        "User: under 18 years old, male, occupation student. Favourite genres: Comedy, Drama. "
        "Top-rated: Fargo (1996); Clerks (1994)."
    )
    assert "12345" not in users[0]  # zip codes are not rendered


def test_profiles_never_read_test_interactions() -> None:
    ds = movie_data()
    users, items = build_profiles(ds.train, top_titles=10, top_genres=3)
    assert "Secret Film" in items[3]  # the item exists and has its own profile...
    assert not any("Secret Film" in u for u in users)  # ...but no user profile mentions the test-only interaction


def test_top_items_and_favourite_categories_vectorised() -> None:
    g = movie_data().train
    assert top_items(g, 2).tolist() == [[1, 2], [2, 1]]
    # k larger than a user's row pads with -1
    assert top_items(g, 4).tolist() == [[1, 2, 0, -1], [2, 1, -1, -1]]
    fav = favourite_categories(g, g.node_attrs["item"]["genres"].astype(np.float32), 3)
    assert fav.tolist() == [[1, 2, 0], [1, 2, -1]]  # user 1 never watched an Action film
    with pytest.raises(ValueError, match="k must be"):
        top_items(g, 0)


def test_ties_in_rating_go_to_the_more_popular_item() -> None:
    g = Graph()
    g.add_node_type("user", 3)
    g.add_node_type("item", 3)
    # user 0 rates items 0 and 2 equally; item 2 is more popular (users 1, 2 too)
    g.add_edges(INTERACTS, [0, 0, 1, 2], [0, 2, 2, 2], weight=[4.0, 4.0, 1.0, 1.0])
    assert top_items(g, 2)[0].tolist() == [2, 0]


def test_generic_fallback_without_metadata() -> None:
    g = Graph()
    g.add_edges(INTERACTS, ["ann", "ann", "bob"], ["x", "y", "y"], by="id")
    g.node_attrs["user"]["community"] = torch.tensor([1, 0])
    g.node_attrs["user"]["is_sybil"] = torch.tensor([False, True])
    g.node_attrs["item"]["community"] = torch.tensor([0, 1])
    users, items = build_profiles(g)
    assert items == ["Item: item x. community: 0.", "Item: item y. community: 1."]
    # no weights -> "Interacted with"; bool flags are never rendered; item communities act as genres
    assert users[0] == "User ann. community: 1. Favourite communities: community 0, community 1. Interacted with: item y; item x."
    assert users[1] == "User bob. community: 0. Favourite communities: community 1. Interacted with: item y."
    assert not any("sybil" in u for u in users)


def test_bad_attributes_raise_naming_the_field() -> None:
    g = movie_data().train
    g.node_attrs["item"]["genres"] = np.zeros(4, np.int8)
    with pytest.raises(ValueError, match="genres"):
        item_profiles(g)
    g = movie_data().train
    g.node_attrs["user"]["age"] = np.array([1, 2, 3])
    with pytest.raises(ValueError, match="age"):
        user_profiles(g)
    with pytest.raises(KeyError, match="height"):
        user_profiles(movie_data().train, fields=["height"])


def test_count_arguments_name_themselves_and_accept_numpy_integers() -> None:
    g = movie_data().train
    assert top_items(g, np.int64(2)).tolist() == [[1, 2], [2, 1]]
    genres = g.node_attrs["item"]["genres"].astype(np.float32)
    assert favourite_categories(g, genres, np.int32(3)).tolist() == [[1, 2, 0], [1, 2, -1]]
    for bad in (1.5, True, "2"):
        with pytest.raises(ValueError, match=r"k must be an integer >= 1, got"):
            top_items(g, bad)
    with pytest.raises(ValueError, match=r"k must be an integer >= 0, got -1"):
        favourite_categories(g, genres, -1)
    with pytest.raises(ValueError, match=r"top_titles must be an integer >= 0, got 1.5"):
        user_profiles(g, top_titles=1.5)
    with pytest.raises(ValueError, match=r"top_genres must be an integer >= 0, got -1"):
        build_profiles(g, top_genres=-1)
    assert user_profiles(g, top_genres=np.int64(1), top_titles=np.int64(1)) == user_profiles(g, top_genres=1, top_titles=1)


def test_byte_strings_are_decoded_and_missing_values_left_out() -> None:
    ds = movie_data()
    g = ds.train
    g.node_attrs["item"]["title"] = np.array([b"Heat (1995)", b"Clerks (1994)", "Amélie (2001)".encode(), "Léon".encode("latin-1")])
    g.node_attrs["user"]["gender"] = np.array([b"F", None], dtype=object)
    g.node_attrs["user"]["occupation"] = np.array([None, "none"], dtype=object)
    users, items = build_profiles(g)
    assert items[2] == "Title: Amélie (2001). Year: 1996. Genres: Comedy, Drama." and items[3].startswith("Title: Léon. ")
    assert users[0].startswith("User: 25-34 years old, female. ") and "Top-rated: Clerks (1994); Amélie (2001); Heat (1995)." in users[0]
    assert users[1].startswith("User: under 18 years old, no occupation. ")
    assert not any("b'" in p or "None" in p for p in users + items)
