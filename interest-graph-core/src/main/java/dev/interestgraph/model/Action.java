package dev.interestgraph.model;

import java.util.Locale;

/** What a user did to an item. Mirrors {@code interestgraph.v1.Action}. */
public enum Action {
    VIEW,
    CLICK,
    CART,
    PURCHASE,
    /** value = stars (0.5 .. 5). */
    RATE,
    /** text = the comment. */
    COMMENT,
    SHARE,
    DISLIKE,
    /** Erasure: every trace of the user goes. Carries no item. */
    FORGET_USER;

    /** Parses an action name case-insensitively; null when unknown. */
    public static Action parse(String name) {
        try {
            return Action.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
