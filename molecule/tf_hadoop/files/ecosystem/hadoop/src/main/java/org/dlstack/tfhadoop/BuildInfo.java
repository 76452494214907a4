package org.dlstack.tfhadoop;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Prints the Hadoop version the jar was built against (test stand-in for tensorflow-hadoop). */
public final class BuildInfo {
    private BuildInfo() {
    }

    public static String hadoopVersion() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/dlstack-build.properties")) {
            properties.load(in);
        }
        return properties.getProperty("hadoop.version");
    }

    public static void main(String[] args) throws IOException {
        System.out.println("hadoop.version=" + hadoopVersion());
    }
}
